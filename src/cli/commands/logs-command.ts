/**
 * `clawdbot logs`: tails the gateway's file log over RPC (`logs.tail` with a byte
 * cursor), so it works against remote gateways too and needs no `tail`/`grep`.
 *
 *   first call       no cursor → the last --limit lines (within --max-bytes)
 *   --follow         every --interval ms: cursor = previous result's cursor
 *   reset            the file was rotated/truncated, or we fell behind by more than
 *                    --max-bytes: the server re-reads the tail; a notice goes to stderr
 *
 * Output: pretty lines (colours on a TTY unless --no-color/--plain/NO_COLOR), compact
 * plain lines with --plain, or one JSON object per log line with --json (the parsed
 * record; `{"raw": …}` for a line that is not JSON). Exit 1 on any RPC error.
 */
import type { Command } from "commander";

import type { RpcFlags, RpcTarget } from "../rpc-target.js";
import type { LineFormatter } from "../../shared/log/console-pretty.js";
import type { LogTailResult } from "../../shared/log/log-tail.js";

interface LogsFlags extends RpcFlags {
  limit: string;
  maxBytes: string;
  follow?: boolean;
  interval: string;
  json?: boolean;
  plain?: boolean;
  /** false with --no-color. */
  color?: boolean;
}

function parseIntFlag(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new Error(`invalid ${name} ${JSON.stringify(text)}: expected an integer ${min}..${max}`);
  return n;
}

/** Renders one log line for the chosen output mode (with its trailing newline); `pretty` formats the text modes. */
export function renderLogLine(line: string, mode: { json: boolean; plain: boolean; colors: boolean }, pretty: LineFormatter): string {
  if (mode.json) {
    try {
      const rec: unknown = JSON.parse(line);
      if (typeof rec === "object" && rec !== null && !Array.isArray(rec)) return `${JSON.stringify(rec)}\n`;
    } catch {
      // not JSON: wrapped below
    }
    return `${JSON.stringify({ raw: line })}\n`;
  }
  const out = pretty(line);
  return out.endsWith("\n") ? out : `${out}\n`;
}

async function tailOnce(target: RpcTarget, params: Record<string, number>): Promise<LogTailResult> {
  const { callGateway } = await import("../gateway-client.js");
  return (await callGateway("logs.tail", params, {
    url: target.url,
    tlsFingerprint: target.tlsFingerprint,
    token: target.token,
    password: target.password,
    timeoutMs: target.timeoutMs,
    stateDir: target.deviceStateDir,
  })) as LogTailResult;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `clawdbot logs`; resolves with the exit code (never, while following, unless an RPC fails). */
export async function runLogs(flags: LogsFlags): Promise<number> {
  // Imported here, not at the top: registering the command must stay cheap (start-up path).
  const [{ resolveRpcTarget }, { loadLineFormatter }, { LOGS_TAIL_MAX_BYTES, LOGS_TAIL_MAX_LIMIT }] = await Promise.all([
    import("../rpc-target.js"),
    import("../../shared/log/console-pretty.js"),
    import("../../shared/log/log-tail.js"),
  ]);
  let target: RpcTarget;
  let limit: number;
  let maxBytes: number;
  let interval: number;
  try {
    limit = parseIntFlag("--limit", flags.limit, 1, LOGS_TAIL_MAX_LIMIT);
    maxBytes = parseIntFlag("--max-bytes", flags.maxBytes, 1, LOGS_TAIL_MAX_BYTES);
    interval = parseIntFlag("--interval", flags.interval, 50, 3_600_000);
    target = await resolveRpcTarget(flags);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
  const mode = {
    json: flags.json === true,
    plain: flags.plain === true,
    colors: flags.plain !== true && flags.color !== false && process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  };
  const pretty = await loadLineFormatter(mode.json ? "json" : mode.plain ? "compact" : "pretty", mode.colors);
  let cursor: number | undefined;
  let file: string | undefined;
  for (;;) {
    let res: LogTailResult;
    try {
      res = await tailOnce(target, cursor === undefined ? { limit, maxBytes } : { cursor, limit, maxBytes });
    } catch (err) {
      const e = err as Error & { code?: string };
      process.stderr.write(`logs.tail failed: ${e.message}${e.code ? ` [${e.code}]` : ""}\n`);
      process.stderr.write(`Gateway target: ${target.url}\nSource: ${target.source}\nConfig: ${target.configPath}\n`);
      return 1;
    }
    if (file !== undefined && res.file !== file) process.stderr.write(`logs: now reading ${res.file}\n`);
    else if (cursor !== undefined && res.reset) {
      process.stderr.write(`logs: ${res.file} was rotated or truncated, or more than --max-bytes arrived between polls; continuing from its tail\n`);
    }
    if (cursor === undefined && res.truncated && !mode.json && flags.follow !== true && res.lines.length < limit) {
      process.stderr.write(`logs: showing only the last ${maxBytes} bytes of ${res.file} (raise --max-bytes for more)\n`);
    }
    file = res.file;
    cursor = res.cursor;
    if (res.lines.length > 0) process.stdout.write(res.lines.map((l) => renderLogLine(l, mode, pretty)).join(""));
    if (flags.follow !== true) return 0;
    await sleep(interval);
  }
}

/** Registers `clawdbot logs`. */
export function registerLogsCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("logs")
    .description("tail the gateway file log over RPC (logs.tail); works against remote gateways")
    .option("--limit <n>", "lines to show (1..5000)", "200")
    .option("--max-bytes <n>", "bytes read per poll (1..1000000)", "250000")
    .option("--follow", "keep polling for new lines (Ctrl-C to stop)")
    .option("--interval <ms>", "poll interval with --follow", "1000")
    .option("--json", "print one JSON object per log line")
    .option("--plain", "plain text output, no ANSI styling")
    .option("--no-color", "disable ANSI colours")
    .option("--url <url>", "gateway WebSocket URL (default: ws://127.0.0.1:<port>)")
    .option("--token <token>", "gateway token (default: CLAWDBOT_GATEWAY_TOKEN, gateway.auth.token, or the generated token; with --url only --token/CLAWDBOT_GATEWAY_TOKEN)")
    .option("--password <password>", "gateway password")
    .option("--timeout <ms>", "RPC timeout in milliseconds", "10000")
    .addHelpText("after", "\nExample:\n  clawdbot logs --follow\n  clawdbot logs --json --limit 500 | jq .msg\n  clawdbot --dev logs --plain")
    .action(async (flags: LogsFlags) => setExit(await runLogs(flags)));
}
