/**
 * RPC helpers: `gateway call` (JSON), and `gateway health`, `health`, `status` (a short
 * human summary, rpc-summary.ts; the payload JSON with `--json`).
 *
 * The client (ws, config loading) is imported when a command runs, not when it is
 * registered: `clawdbot gateway` must not load it on its start-up path.
 */
import type { Command } from "commander";
import type { RpcError } from "../gateway-client.js";
import type { RpcFlags, RpcTarget } from "../rpc-target.js";

interface CallFlags extends RpcFlags {
  params?: string;
  json?: boolean;
  expectFinal?: boolean;
  verbose?: boolean;
}

function addRpcFlags(cmd: Command): Command {
  return cmd
    .option("--url <url>", "gateway WebSocket URL (default: ws://127.0.0.1:<port>)")
    .option("--token <token>", "gateway token (default: CLAWDBOT_GATEWAY_TOKEN, gateway.auth.token, or the generated token; with --url only --token/CLAWDBOT_GATEWAY_TOKEN)")
    .option("--password <password>", "gateway password")
    .option("--timeout <ms>", "timeout in milliseconds", "10000");
}

/**
 * Runs one RPC and prints the payload as JSON — or, with `summary` and without `--json`,
 * the human summary; exit 1 when unreachable or refused.
 */
export async function runRpc(method: string, params: unknown, flags: CallFlags, summary?: "health" | "status"): Promise<number> {
  const [{ callGateway }, { resolveRpcTarget }, { formatGatewaySummary }] = await Promise.all([
    import("../gateway-client.js"),
    import("../rpc-target.js"),
    import("./rpc-summary.js"),
  ]);
  let target;
  try {
    target = await resolveRpcTarget(flags);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const human = summary !== undefined && flags.json !== true;
  let hello: unknown;
  try {
    const payload = await callGateway(method, params, {
      ...clientOptions(target),
      expectFinal: flags.expectFinal,
      onHello: (h) => (hello = h),
    });
    if (!human) {
      process.stdout.write(`${JSON.stringify(payload, null, flags.json === false ? 0 : 2)}\n`);
      return 0;
    }
    const nodes = await callGateway("node.list", {}, clientOptions(target)).catch((err: unknown) => (err as Error).message);
    process.stdout.write(formatGatewaySummary({ url: target.url, method: summary, hello, payload, nodes }));
    return 0;
  } catch (err) {
    const e = err as RpcError;
    process.stderr.write(`${e.message}${e.code ? ` [${e.code}]` : ""}\n`);
    process.stderr.write(`Gateway target: ${target.url}\nSource: ${target.source}\nConfig: ${target.configPath}\n`);
    if (target.explicitUrl && target.token === undefined && target.password === undefined) {
      process.stderr.write("With --url, no credentials from the local config are sent: pass --token/--password (or set CLAWDBOT_GATEWAY_TOKEN).\n");
    }
    return 1;
  }
}

function clientOptions(target: RpcTarget): { url: string; tlsFingerprint?: string; token?: string; password?: string; timeoutMs: number; stateDir?: string } {
  return { url: target.url, tlsFingerprint: target.tlsFingerprint, token: target.token, password: target.password, timeoutMs: target.timeoutMs, stateDir: target.deviceStateDir };
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`--params is not valid JSON: ${(err as Error).message}`);
  }
}

export function registerRpcCommands(program: Command, gateway: Command, setExit: (code: number) => void): void {
  addRpcFlags(
    gateway
      .command("call <method>")
      .description("call any gateway method and print the result JSON")
      .option("--params <json>", "method params as JSON", "{}")
      .option("--expect-final", "wait for the final response of two-stage methods (agent)")
      .option("--json", "print JSON (default)")
      .addHelpText("after", `\nExample:\n  clawdbot gateway call health\n  clawdbot gateway call system-event --params '{"text":"hello"}'`),
  ).action(async (method: string, flags: CallFlags) => {
    let params: unknown;
    try {
      params = parseParams(flags.params);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      setExit(1);
      return;
    }
    setExit(await runRpc(method, params, flags));
  });

  addRpcFlags(
    gateway
      .command("health")
      .description("gateway health over WebSocket: a short summary, or the snapshot with --json")
      .option("--json", "print the health snapshot JSON")
      .addHelpText("after", "\nExample:\n  clawdbot gateway health\n  clawdbot gateway health --json --url ws://127.0.0.1:18789 --token $TOKEN"),
  ).action(async (flags: CallFlags) => setExit(await runRpc("health", {}, flags, "health")));

  addRpcFlags(
    program
      .command("health")
      .description("gateway health: a short summary, or the snapshot with --json (exit 1 when the gateway is unreachable)")
      .option("--json", "print the health snapshot JSON")
      .option("--verbose", "probe channels instead of using the cached snapshot")
      .addHelpText("after", "\nExample:\n  clawdbot health --json"),
  ).action(async (flags: CallFlags) => setExit(await runRpc("health", flags.verbose ? { probe: true } : {}, flags, "health")));

  addRpcFlags(
    program
      .command("status")
      .description("short gateway status summary over WebSocket (the StatusSummary JSON with --json)")
      .option("--json", "print the status JSON")
      .addHelpText("after", "\nExample:\n  clawdbot status --json"),
  ).action(async (flags: CallFlags) => setExit(await runRpc("status", {}, flags, "status")));
}
