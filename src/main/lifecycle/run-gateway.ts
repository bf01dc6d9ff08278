/**
 * `clawdbot gateway [run]`: validate the config, take the instance lock, optionally
 * free the port (`--force`), make sure auth is on, then run until a signal.
 * Returns the process exit code (0 graceful, 1 fatal, 78 config).
 */
import { loadConfig } from "../../shared/config/load-config.js";
import { resolveConfigPath, resolveStateDir, type Env } from "../../shared/config/paths.js";
import { formatIssues } from "../../shared/config/validate.js";
import { createGatewayLogger, loggerOptionsFromConfig } from "../../shared/log/logger.js";
import { GatewayError } from "../../shared/errors.js";
import { acquireInstanceLock, type InstanceLock } from "./instance-lock.js";
import { terminatePortHolders, findPortHolders } from "./port-holders.js";
import { ensureGeneratedToken, generatedTokenPath } from "./generated-token.js";
import { authUnconfigured, resolveRuntime, type GatewayRunFlags } from "./runtime-options.js";
import { GatewayProcess, type GatewayProcessOptions } from "./gateway-process.js";
import { EXIT_CONFIG, EXIT_FAILURE, exitCodeFor } from "./exit-codes.js";
import { probeHostFor, probeTcpPort } from "../../shared/net/port-probe.js";

export interface RunGatewayIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: RunGatewayIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export async function runGateway(
  flags: GatewayRunFlags,
  env: Env = process.env,
  io: RunGatewayIo = defaultIo,
  modules?: GatewayProcessOptions["modules"],
): Promise<number> {
  const configPath = resolveConfigPath(env);
  const stateDir = resolveStateDir(env);
  const snap = await loadConfig({ path: configPath, env });
  if (!snap.valid) {
    io.err(`Invalid config at ${configPath}:`);
    for (const line of formatIssues(snap.issues).split("\n")) io.err(`  ${line}`);
    io.err(`Fix the file, then retry (or run "clawdbot doctor").`);
    return EXIT_CONFIG;
  }
  const config = snap.config;
  if (config.gateway.mode !== "local" && !flags.allowUnconfigured) {
    if (!snap.exists) io.err("Missing config. Run `clawdbot setup` or set gateway.mode=local (or pass --allow-unconfigured).");
    else io.err(`Gateway start blocked: set gateway.mode=local (current: ${config.gateway.mode ?? "unset"}) in ${configPath}, or pass --allow-unconfigured.`);
    return EXIT_CONFIG;
  }

  let lock: InstanceLock | null = null;
  try {
    if (env.CLAWDBOT_ALLOW_MULTI_GATEWAY !== "1") lock = await acquireInstanceLock(configPath);
    if (authUnconfigured(config, flags, env)) {
      const { created } = await ensureGeneratedToken(stateDir);
      if (created) {
        io.out(`No gateway auth configured: generated a token and saved it to ${generatedTokenPath(stateDir)} (mode 0600).`);
      }
    }
    // Resolve once up front so config/auth errors exit 78 before anything binds.
    const probe = await resolveRuntime(config, flags, env, { configPath, stateDir });
    if (flags.force) {
      const killed = await terminatePortHolders(probe.options.port);
      for (const h of killed) io.out(`--force: sent SIGTERM to pid ${h.pid} (${h.command || "unknown"}) listening on port ${probe.options.port}`);
    }
    const logger = await createGatewayLogger(loggerOptionsFromConfig(config.logging, { verbose: flags.verbose === true }));
    const proc = new GatewayProcess({
      flags,
      env,
      paths: { configPath, stateDir },
      config,
      logger,
      modules,
      onStarted: (runtime, inst) => {
        const tls = inst.server.tls;
        const url = `${tls ? "wss" : "ws"}://${runtime.options.host}:${inst.server.port}`;
        io.out(`Gateway listening on ${url} (auth: ${runtime.options.auth.mode}; config: ${configPath}; state: ${stateDir})`);
        if (tls) io.out(`TLS certificate SHA-256 fingerprint: ${tls.fingerprintSha256}${tls.generated ? " (self-signed, generated now)" : ""}`);
        if (runtime.options.canvasHostPort !== null) io.out(`Canvas host on http://${runtime.options.host}:${runtime.options.canvasHostPort}/__clawdbot__/canvas/`);
        // Not `--url`: an explicit URL gets no credentials from the local config.
        io.out(`Try: ${inst.server.port !== 18789 ? `CLAWDBOT_GATEWAY_PORT=${inst.server.port} ` : ""}clawdbot gateway call health`);
      },
    });
    try {
      await proc.start();
    } catch (err) {
      await logger.close().catch(() => undefined);
      if (err instanceof GatewayError && err.code === "GW_ERR_SERVER_LISTEN") {
        io.err(err.message);
        const holders = await findPortHolders(probe.options.port).catch(() => []);
        for (const h of holders) io.err(`  port ${probe.options.port} is held by pid ${h.pid} (${h.command})`);
        io.err("Stop the other gateway (clawdbot gateway stop), pick another --port, or use --force to terminate the listener.");
        // A live listener will not go away by itself: 78 stops a supervisor's restart loop
        // (RestartPreventExitStatus=78). A port held only by our previous run's closing
        // connections (no SO_REUSEADDR) frees itself, so that stays 1 and is retried.
        const listening = holders.length > 0 || (await probeTcpPort(probeHostFor(probe.options.host), probe.options.port)) === "listening";
        return listening ? EXIT_CONFIG : EXIT_FAILURE;
      }
      throw err;
    }
    const code = await proc.done;
    await logger.close().catch(() => undefined);
    return code;
  } catch (err) {
    io.err(err instanceof Error ? err.message : String(err));
    return exitCodeFor(err);
  } finally {
    await lock?.release();
  }
}
