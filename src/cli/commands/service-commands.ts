/**
 * Service management under `clawdbot gateway`: install, uninstall, start, stop, restart,
 * status (§9.3). `gateway status` is the supervisor view; the top-level `status` is the
 * RPC summary (rpc-commands.ts).
 */
import type { Command } from "commander";

import { CLI_VERSION } from "../version.js";
import type { ServiceManager } from "../service/service-manager.js";
import type { LifecycleResult } from "../service/service-lifecycle.js";

/**
 * The service modules, imported when a service command runs (never on the gateway's
 * start-up path, which only registers the commands).
 */
async function load(): Promise<{
  createServiceManager: typeof import("../service/create-manager.js").createServiceManager;
  lifecycle: typeof import("../service/service-lifecycle.js");
  gatherGatewayStatus: typeof import("../service/service-status.js").gatherGatewayStatus;
  format: typeof import("../service/status-format.js");
}> {
  const [manager, lifecycle, status, format] = await Promise.all([
    import("../service/create-manager.js"),
    import("../service/service-lifecycle.js"),
    import("../service/service-status.js"),
    import("../service/status-format.js"),
  ]);
  return { createServiceManager: manager.createServiceManager, lifecycle, gatherGatewayStatus: status.gatherGatewayStatus, format };
}

interface JsonFlag {
  json?: boolean;
}

interface InstallFlags extends JsonFlag {
  port?: string;
  token?: string;
  force?: boolean;
}

interface StatusFlags extends JsonFlag {
  deep?: boolean;
  probe?: boolean;
  url?: string;
  token?: string;
  password?: string;
  timeout?: string;
}

function print(lines: string[], stream: NodeJS.WriteStream): void {
  if (lines.length > 0) stream.write(`${lines.join("\n")}\n`);
}

type Loaded = Awaited<ReturnType<typeof load>>;

function emit(m: Loaded, r: LifecycleResult, json: boolean | undefined): number {
  if (json === true) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const { out, err } = m.format.formatLifecycleResult(r);
    print(out, process.stdout);
    print(err, process.stderr);
  }
  return r.ok ? 0 : 1;
}

/** The manager, or a failed lifecycle result (unsupported platform). */
function manager(m: Loaded, action: LifecycleResult["action"]): ServiceManager | LifecycleResult {
  try {
    return m.createServiceManager({ env: process.env });
  } catch (err) {
    const hints = (err as { hints?: string[] }).hints;
    return { ok: false, action, error: (err as Error).message, ...(hints ? { hints } : {}) };
  }
}

function isResult(v: ServiceManager | LifecycleResult): v is LifecycleResult {
  return "action" in v;
}

/** Registers `gateway install|uninstall|start|stop|restart|status`. */
export function registerServiceCommands(gateway: Command, setExit: (code: number) => void): void {
  gateway
    .command("install")
    .description("install the gateway as a supervised service (systemd user unit / LaunchAgent); no-op when installed")
    .option("--port <port>", "port the service runs on (default: CLAWDBOT_GATEWAY_PORT > gateway.port > 18789)")
    .option("--token <token>", "embed CLAWDBOT_GATEWAY_TOKEN in the service definition")
    .option("--force", "rewrite and re-register even when already installed")
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  clawdbot gateway install\n  clawdbot --profile rescue gateway install --port 19789 --force")
    .action(async (flags: InstallFlags) => {
      const m = await load();
      const mgr = manager(m, "install");
      if (isResult(mgr)) return setExit(emit(m, mgr, flags.json));
      const r = await m.lifecycle.installService(mgr, { env: process.env, version: CLI_VERSION, port: flags.port, token: flags.token, force: flags.force });
      setExit(emit(m, r, flags.json));
    });

  gateway
    .command("uninstall")
    .description("stop the gateway service and remove its definition")
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  clawdbot gateway uninstall")
    .action(async (flags: JsonFlag) => {
      const m = await load();
      const mgr = manager(m, "uninstall");
      if (isResult(mgr)) return setExit(emit(m, mgr, flags.json));
      setExit(emit(m, await m.lifecycle.uninstallService(mgr), flags.json));
    });

  for (const action of ["start", "stop", "restart"] as const) {
    gateway
      .command(action)
      .description(`${action} the supervised gateway service (launchd/systemd)`)
      .option("--json", "print the result as JSON")
      .addHelpText("after", `\nExample:\n  clawdbot gateway ${action}\n  clawdbot --profile rescue gateway ${action} --json`)
      .action(async (flags: JsonFlag) => {
        const m = await load();
        const mgr = manager(m, action);
        if (isResult(mgr)) return setExit(emit(m, mgr, flags.json));
        setExit(emit(m, await m.lifecycle.controlService(mgr, action), flags.json));
      });
  }

  gateway
    .command("status")
    .description("supervisor state of the gateway service and RPC reachability (exit 1 only when gathering fails)")
    .option("--json", "print a stable JSON object (see docs/service.md)")
    .option("--deep", "also scan system units / LaunchDaemons and other profiles' services")
    .option("--no-probe", "skip the RPC probe (WS connect + status)")
    .option("--url <url>", "probe this WebSocket URL instead of the service's port")
    .option("--token <token>", "gateway token for the probe")
    .option("--password <password>", "gateway password for the probe")
    .option("--timeout <ms>", "probe timeout in milliseconds", "10000")
    .addHelpText("after", "\nExample:\n  clawdbot gateway status\n  clawdbot gateway status --json --no-probe\n  clawdbot gateway status --deep --url ws://127.0.0.1:18789")
    .action(async (flags: StatusFlags) => {
      try {
        const m = await load();
        const mgr = m.createServiceManager({ env: process.env });
        const report = await m.gatherGatewayStatus(mgr, { env: process.env, ...flags });
        if (flags.json === true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else print(m.format.formatStatusReport(report), process.stdout);
        setExit(0);
      } catch (err) {
        process.stderr.write(`gateway status failed: ${(err as Error).message}\n`);
        for (const h of (err as { hints?: string[] }).hints ?? []) process.stderr.write(`hint: ${h}\n`);
        setExit(1);
      }
    });
}
