/**
 * Where and how the CLI's RPC helpers connect (§9.2): URL `--url` > gateway.remote.url
 * (remote mode) > ws://127.0.0.1:<resolved port>; token `--token` > remote token
 * (remote mode) | CLAWDBOT_GATEWAY_TOKEN > gateway.auth.token > the token the gateway
 * generated into the state dir. Password likewise (without the generated fallback).
 *
 * An explicit `--url` may point anywhere (another host, another user's port): it gets only
 * credentials given explicitly for this call — `--token`/`--password` or
 * CLAWDBOT_GATEWAY_TOKEN/CLAWDBOT_GATEWAY_PASSWORD — never the local config's secrets, the
 * generated token, or a stored device token (`stateDir` is then not used by the client).
 */
import { loadConfig } from "../shared/config/load-config.js";
import { resolveConfigPath, resolveStateDir, type Env } from "../shared/config/paths.js";
import { resolveGatewayPort } from "../shared/config/ports.js";
import { readGeneratedToken } from "../main/lifecycle/generated-token.js";
import { localCertFingerprint } from "./tls-pin.js";

export interface RpcFlags {
  url?: string;
  token?: string;
  password?: string;
  timeout?: string;
}

export interface RpcTarget {
  url: string;
  /**
   * SHA-256 fingerprint the server's certificate must have (wss://): the local
   * gateway's certificate on disk, or `gateway.remote.tlsFingerprint` in remote mode.
   */
  tlsFingerprint?: string;
  token?: string;
  password?: string;
  timeoutMs: number;
  /** State dir for stored device tokens; undefined for an explicit `--url` (none are sent or saved). */
  deviceStateDir?: string;
  stateDir: string;
  configPath: string;
  source: string;
  /** True when the URL came from `--url` (only explicit credentials are used). */
  explicitUrl: boolean;
}

/** Options of `resolveRpcTarget`. */
export interface RpcTargetOptions {
  /**
   * `flags.url` was derived by the CLI itself from the local config/service (doctor, gateway
   * status), not typed by the user: treat it like the default local URL. Default false.
   */
  urlIsLocal?: boolean;
}

export async function resolveRpcTarget(flags: RpcFlags, env: Env = process.env, opts: RpcTargetOptions = {}): Promise<RpcTarget> {
  const configPath = resolveConfigPath(env);
  const stateDir = resolveStateDir(env);
  const snap = await loadConfig({ path: configPath, env });
  const g = snap.config.gateway;
  const remote = g.mode === "remote";
  let url = flags.url;
  let source = "--url";
  if (!url && remote) {
    if (!g.remote?.url) throw new Error(`gateway remote mode misconfigured: set gateway.remote.url in ${configPath}`);
    url = g.remote.url;
    source = "gateway.remote.url";
  }
  let tlsFingerprint = remote ? g.remote?.tlsFingerprint : undefined;
  if (!url) {
    const port = resolveGatewayPort({ env, config: snap.config });
    const tls = g.tls?.enabled === true;
    url = `${tls ? "wss" : "ws"}://127.0.0.1:${port.port}`;
    source = `local gateway (port from ${port.source})`;
    if (tls) tlsFingerprint = await localCertFingerprint(g.tls?.certPath, stateDir);
  }
  const explicitUrl = flags.url !== undefined && opts.urlIsLocal !== true;
  let token: string | undefined;
  let password: string | undefined;
  if (explicitUrl) {
    token = flags.token ?? env.CLAWDBOT_GATEWAY_TOKEN;
    password = flags.password ?? env.CLAWDBOT_GATEWAY_PASSWORD;
  } else {
    token = flags.token ?? (remote ? g.remote?.token : (env.CLAWDBOT_GATEWAY_TOKEN ?? g.auth?.token ?? (await readGeneratedToken(stateDir))));
    password = flags.password ?? env.CLAWDBOT_GATEWAY_PASSWORD ?? (remote ? g.remote?.password : g.auth?.password);
  }
  const timeoutMs = flags.timeout ? Number(flags.timeout) : 10_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`invalid --timeout ${JSON.stringify(flags.timeout)}: expected milliseconds > 0`);
  return { url, tlsFingerprint, token, password, timeoutMs, stateDir, deviceStateDir: explicitUrl ? undefined : stateDir, configPath, source, explicitUrl };
}
