/** `clawdbot gateway` / `clawdbot gateway run`: the foreground server. */
import type { Command } from "commander";
import type { GatewayRunFlags } from "../../main/lifecycle/runtime-options.js";

export function addGatewayRunOptions(cmd: Command): Command {
  return cmd
    .option("--port <port>", "port for WebSocket + HTTP (precedence: --port > CLAWDBOT_GATEWAY_PORT > gateway.port > 18789)")
    .option("--bind <mode>", "bind mode: loopback | lan | tailnet | auto | custom")
    .option("--token <token>", "shared token clients must send in connect.params.auth.token")
    .option("--auth <mode>", "auth mode override: token | password | none")
    .option("--password <password>", "shared password")
    .option("--force", "terminate whatever listens on the port first (uses lsof)")
    .option("--verbose", "mirror debug logs (handshakes, req/res, events) to stdio")
    .option("--allow-unconfigured", "start without gateway.mode=local in the config");
}

export async function gatewayRunAction(flags: GatewayRunFlags): Promise<number> {
  // The gateway's graph is loaded only when it runs: the other commands register this one
  // without paying for it.
  const [{ runGateway }, { canvasHostModules }, { a2uiModules }, { controlUiModules }] = await Promise.all([
    import("../../main/lifecycle/run-gateway.js"),
    import("../../main/canvas/canvas-host.js"),
    import("../../main/a2ui/a2ui-module.js"),
    import("../../main/control-ui/control-ui-module.js"),
  ]);
  return runGateway(flags, process.env, undefined, (runtime) => [
    ...canvasHostModules(runtime.canvas),
    ...a2uiModules(runtime.canvas.enabled),
    ...controlUiModules(runtime.options.controlUi),
  ]);
}

export const GATEWAY_RUN_HELP = `
Examples:
  clawdbot gateway --port 18789
  clawdbot gateway --port 18789 --verbose
  clawdbot gateway --force
  clawdbot --dev gateway --allow-unconfigured

Signals: SIGTERM/SIGINT stop gracefully (exit 0); SIGUSR1 restarts in-process when commands.restart=true.
Exit codes: 0 stopped, 1 fatal error (supervisor restarts), 78 will not fix itself: configuration error,
port held by another listener, lock held by a running gateway, unsafe lock/log directory.`;
