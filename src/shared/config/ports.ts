/**
 * Port and bind-address resolution (§8.2, runbook "Port precedence", "Derived ports").
 *
 *   gateway port:  --port  >  CLAWDBOT_GATEWAY_PORT  >  gateway.port  >  18789
 *   browser ctl:   CLAWDBOT_BROWSER_CONTROL_URL  >  browser.controlUrl  >  base + 2
 *   canvas host:   CLAWDBOT_CANVAS_HOST_PORT     >  canvasHost.port     >  base + 4
 *
 * `--port 0` / `CLAWDBOT_GATEWAY_PORT=0` ask the OS for a free port (tests); derived
 * ports of an ephemeral base are ephemeral too (0). Invalid values are errors, never
 * silently skipped: a typo in a port must not start the gateway somewhere unexpected.
 */
import net from "node:net";

import { GatewayError } from "../errors.js";
import type { Env } from "./paths.js";
import type { BindMode, ClawdbotConfig } from "./schema/index.js";

/** Default gateway port. */
export const DEFAULT_GATEWAY_PORT = 18789;
/** Offset of the browser control server from the gateway port. */
export const BROWSER_CONTROL_PORT_OFFSET = 2;
/** Offset of the (legacy, separate) canvas host port from the gateway port. */
export const CANVAS_HOST_PORT_OFFSET = 4;

/** Where a resolved value came from. */
export type ValueSource = "flag" | "env" | "config" | "derived" | "default";

/** A resolved port and its origin. */
export interface ResolvedPort {
  port: number;
  source: ValueSource;
}

/** Inputs of the resolvers; every field optional. */
export interface PortInputs {
  /** `--port` as given on the command line (string or number). */
  flag?: string | number;
  /** Environment. Default `process.env`. */
  env?: Env;
  /** Loaded config. */
  config?: ClawdbotConfig;
}

function invalidPort(what: string, value: unknown, allowZero: boolean): GatewayError {
  const range = allowZero ? "0..65535 (0 = any free port)" : "1..65535";
  return new GatewayError(
    "GW_ERR_CONFIG_INVALID",
    `invalid ${what} ${JSON.stringify(value)}: expected an integer ${range}`,
    { what, value },
  );
}

/** Parses a port given as text or number. Throws `GW_ERR_CONFIG_INVALID` naming `what`. */
export function parsePort(value: string | number, what: string, allowZero = true): number {
  const text = typeof value === "number" ? String(value) : value.trim();
  if (!/^\d{1,5}$/.test(text)) throw invalidPort(what, value, allowZero);
  const n = Number(text);
  if (n > 65535 || (n === 0 && !allowZero)) throw invalidPort(what, value, allowZero);
  return n;
}

function envText(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v.trim() === "" ? undefined : v;
}

/** The gateway port by precedence `--port` > `CLAWDBOT_GATEWAY_PORT` > `gateway.port` > 18789. */
export function resolveGatewayPort(inputs: PortInputs = {}): ResolvedPort {
  const env = inputs.env ?? process.env;
  if (inputs.flag !== undefined && String(inputs.flag).trim() !== "") {
    return { port: parsePort(inputs.flag, "--port"), source: "flag" };
  }
  const fromEnv = envText(env, "CLAWDBOT_GATEWAY_PORT");
  if (fromEnv !== undefined) return { port: parsePort(fromEnv, "CLAWDBOT_GATEWAY_PORT"), source: "env" };
  const fromConfig = inputs.config?.gateway?.port;
  if (fromConfig !== undefined) return { port: parsePort(fromConfig, "gateway.port", false), source: "config" };
  return { port: DEFAULT_GATEWAY_PORT, source: "default" };
}

function derive(base: number, offset: number, what: string, override: string): number {
  if (base === 0) return 0;
  const port = base + offset;
  if (port > 65535) {
    throw new GatewayError(
      "GW_ERR_CONFIG_INVALID",
      `${what} port would be ${port} (gateway port ${base} + ${offset}), above 65535: use a lower gateway port or set ${override}`,
      { base, offset },
    );
  }
  return port;
}

function portOfUrl(url: string, what: string): number {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new GatewayError("GW_ERR_CONFIG_INVALID", `invalid ${what} ${JSON.stringify(url)}: expected a URL like http://127.0.0.1:18791`, {
      what,
      value: url,
    });
  }
  if (parsed.port !== "") return parsePort(parsed.port, what);
  return parsed.protocol === "https:" ? 443 : 80;
}

/** Browser control port: `CLAWDBOT_BROWSER_CONTROL_URL` > `browser.controlUrl` > base + 2. */
export function resolveBrowserControlPort(basePort: number, inputs: Omit<PortInputs, "flag"> = {}): ResolvedPort {
  const env = inputs.env ?? process.env;
  const fromEnv = envText(env, "CLAWDBOT_BROWSER_CONTROL_URL");
  if (fromEnv !== undefined) return { port: portOfUrl(fromEnv, "CLAWDBOT_BROWSER_CONTROL_URL"), source: "env" };
  const fromConfig = inputs.config?.browser?.controlUrl;
  if (fromConfig !== undefined && fromConfig.trim() !== "") {
    return { port: portOfUrl(fromConfig, "browser.controlUrl"), source: "config" };
  }
  return { port: derive(basePort, BROWSER_CONTROL_PORT_OFFSET, "browser control", "browser.controlUrl"), source: "derived" };
}

/** Canvas host port: `CLAWDBOT_CANVAS_HOST_PORT` > `canvasHost.port` > base + 4. */
export function resolveCanvasHostPort(basePort: number, inputs: Omit<PortInputs, "flag"> = {}): ResolvedPort {
  const env = inputs.env ?? process.env;
  const fromEnv = envText(env, "CLAWDBOT_CANVAS_HOST_PORT");
  if (fromEnv !== undefined) return { port: parsePort(fromEnv, "CLAWDBOT_CANVAS_HOST_PORT"), source: "env" };
  const fromConfig = inputs.config?.canvasHost?.port;
  if (fromConfig !== undefined) return { port: parsePort(fromConfig, "canvasHost.port", false), source: "config" };
  return { port: derive(basePort, CANVAS_HOST_PORT_OFFSET, "canvas host", "canvasHost.port"), source: "derived" };
}

/** All ports of one gateway instance. */
export interface GatewayPorts {
  gateway: ResolvedPort;
  browserControl: ResolvedPort;
  canvasHost: ResolvedPort;
}

/** Resolves the gateway port and the ports derived from it. */
export function resolveGatewayPorts(inputs: PortInputs = {}): GatewayPorts {
  const gateway = resolveGatewayPort(inputs);
  const rest = { env: inputs.env, config: inputs.config };
  return {
    gateway,
    browserControl: resolveBrowserControlPort(gateway.port, rest),
    canvasHost: resolveCanvasHostPort(gateway.port, rest),
  };
}

/** The bind modes, in the order documented. */
export const BIND_MODES: readonly BindMode[] = ["loopback", "lan", "tailnet", "auto", "custom"];

/** A resolved listen address. */
export interface ResolvedBind {
  mode: BindMode;
  host: string;
  source: ValueSource;
}

/** Inputs of `resolveBindHost`. */
export interface BindInputs {
  /** `--bind` from the command line (a mode name). */
  flag?: string;
  /** Loaded config (`gateway.bind`, `gateway.customBindHost`). */
  config?: ClawdbotConfig;
}

function isBindMode(v: string): v is BindMode {
  return (BIND_MODES as readonly string[]).includes(v);
}

/**
 * Maps the bind mode (`--bind` > `gateway.bind` > `loopback`) to a listen host:
 * loopback → 127.0.0.1, lan → 0.0.0.0, auto → 127.0.0.1, tailnet → 127.0.0.1 (no
 * tailnet address discovery here), custom → `gateway.customBindHost` (must be IPv4).
 */
export function resolveBindHost(inputs: BindInputs = {}): ResolvedBind {
  const flag = inputs.flag?.trim();
  let mode: BindMode = "loopback";
  let source: ValueSource = "default";
  if (flag !== undefined && flag !== "") {
    if (!isBindMode(flag)) {
      throw new GatewayError("GW_ERR_CONFIG_INVALID", `invalid --bind ${JSON.stringify(flag)}: expected one of ${BIND_MODES.join(", ")}`, {
        value: flag,
      });
    }
    mode = flag;
    source = "flag";
  } else if (inputs.config?.gateway?.bind !== undefined) {
    mode = inputs.config.gateway.bind;
    source = "config";
  }
  switch (mode) {
    case "lan":
      return { mode, host: "0.0.0.0", source };
    case "loopback":
    case "auto":
    case "tailnet":
      return { mode, host: "127.0.0.1", source };
    case "custom": {
      const host = inputs.config?.gateway?.customBindHost?.trim();
      if (host === undefined || host === "" || !net.isIPv4(host)) {
        throw new GatewayError(
          "GW_ERR_CONFIG_INVALID",
          `gateway.bind is "custom" but gateway.customBindHost ${host === undefined || host === "" ? "is not set" : `(${JSON.stringify(host)}) is not an IPv4 address`}: set it to an address like 192.168.1.10`,
          { customBindHost: host },
        );
      }
      return { mode, host, source };
    }
  }
}
