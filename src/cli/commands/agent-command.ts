/**
 * `clawdbot agent --message "…" [--session-key K] [--agent id] [--json]`: runs one agent turn
 * through the gateway (`agent` RPC, two-stage), streams the reply's text to stdout as the
 * `agent` assistant events arrive, and waits for the final. `--json` prints the final payload
 * instead. Exit 1 when the gateway is unreachable or the run fails.
 */
import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import type { RpcError } from "../gateway-client.js";
import { resolveRpcTarget } from "../rpc-target.js";
import type { RpcFlags } from "../rpc-target.js";

interface AgentFlags extends RpcFlags {
  message?: string;
  sessionKey?: string;
  agent?: string;
  json?: boolean;
  thinking?: string;
  timeoutSeconds?: string;
}

/** Default run timeout (s) when `--timeout-seconds` is not given (the gateway's own default applies to the run). */
const DEFAULT_WAIT_S = 600;

async function agentAction(flags: AgentFlags): Promise<number> {
  const message = flags.message?.trim() ?? "";
  if (message === "") {
    process.stderr.write("--message is required\n");
    return 1;
  }
  const timeoutS = flags.timeoutSeconds !== undefined ? Number(flags.timeoutSeconds) : undefined;
  if (timeoutS !== undefined && (!Number.isInteger(timeoutS) || timeoutS < 1)) {
    process.stderr.write("--timeout-seconds must be a positive integer\n");
    return 1;
  }
  let target;
  try {
    target = await resolveRpcTarget({ ...flags, timeout: String(((timeoutS ?? DEFAULT_WAIT_S) + 30) * 1000) });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const runId = randomUUID();
  const params: Record<string, unknown> = { message, idempotencyKey: runId };
  if (flags.sessionKey !== undefined) params.sessionKey = flags.sessionKey;
  if (flags.agent !== undefined) params.agentId = flags.agent;
  if (flags.sessionKey === undefined && flags.agent === undefined) params.sessionKey = "main";
  if (flags.thinking !== undefined) params.thinking = flags.thinking;
  if (timeoutS !== undefined) params.timeout = timeoutS;
  let streamed = "";
  try {
    // Loaded on use: `gateway run` never pays for the client (ws).
    const { callGateway } = await import("../gateway-client.js");
    const final = (await callGateway("agent", params, {
      url: target.url,
      tlsFingerprint: target.tlsFingerprint,
      token: target.token,
      password: target.password,
      timeoutMs: target.timeoutMs,
      // An explicit --url gets no stored device identity (only explicit credentials).
      stateDir: target.deviceStateDir,
      expectFinal: true,
      onEvent: (event, payload) => {
        if (flags.json || event !== "agent") return;
        const ev = payload as { runId?: string; stream?: string; data?: { delta?: unknown } };
        if (ev.runId !== runId || ev.stream !== "assistant" || typeof ev.data?.delta !== "string") return;
        streamed += ev.data.delta;
        process.stdout.write(ev.data.delta);
      },
    })) as { status?: string; summary?: string; result?: { payloads?: { text?: string }[] } };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
      return 0;
    }
    const text = (final.result?.payloads ?? []).map((p) => p.text ?? "").join("\n\n");
    if (streamed === "" && text !== "") process.stdout.write(text);
    if (streamed !== "" || text !== "") process.stdout.write("\n");
    return 0;
  } catch (err) {
    const e = err as RpcError;
    if (streamed !== "") process.stdout.write("\n");
    process.stderr.write(`agent run failed: ${e.message}${e.code ? ` [${e.code}]` : ""}\n`);
    return 1;
  }
}

export function registerAgentCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("agent")
    .description("run one agent turn through the gateway and stream the reply")
    .requiredOption("-m, --message <text>", "the message to send")
    .option("--session-key <key>", "session key (default: the main session)")
    .option("--agent <id>", "agent id (session agent:<id>:main when no --session-key)")
    .option("--thinking <level>", "thinking level (off|minimal|low|medium|high)")
    .option("--timeout-seconds <s>", "run timeout in seconds (default: agents.defaults.timeoutSeconds)")
    .option("--json", "print the final result as JSON instead of streaming text")
    .option("--url <url>", "gateway WebSocket URL (default: ws://127.0.0.1:<port>)")
    .option("--token <token>", "gateway token (default: CLAWDBOT_GATEWAY_TOKEN, gateway.auth.token, or the generated token)")
    .option("--password <password>", "gateway password")
    .addHelpText("after", `\nExample:\n  clawdbot agent --message "What changed today?" --session-key main`)
    .action(async (flags: AgentFlags) => setExit(await agentAction(flags)));
}
