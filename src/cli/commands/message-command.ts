/** `clawdbot message send`: one idempotent `send` through the running gateway. */
import { randomUUID } from "node:crypto";
import type { Command } from "commander";
import type { RpcError } from "../gateway-client.js";
import { resolveRpcTarget, type RpcFlags } from "../rpc-target.js";

/** Flags shared by the channel commands. */
export interface ChannelRpcFlags extends RpcFlags {
  json?: boolean;
}

/** Adds the gateway target flags. */
export function addChannelRpcFlags(cmd: Command): Command {
  return cmd
    .option("--url <url>", "gateway WebSocket URL (default: ws://127.0.0.1:<port>)")
    .option("--token <token>", "gateway token")
    .option("--password <password>", "gateway password")
    .option("--timeout <ms>", "timeout in milliseconds", "10000")
    .option("--json", "print JSON for scripts");
}

/** Calls one method; prints the error and returns null on failure. */
export async function channelRpc(method: string, params: unknown, flags: ChannelRpcFlags): Promise<Record<string, unknown> | null> {
  try {
    const t = await resolveRpcTarget(flags);
    // Loaded on use: `gateway run` never pays for the client (ws).
    const { callGateway } = await import("../gateway-client.js");
    return (await callGateway(method, params, { url: t.url, tlsFingerprint: t.tlsFingerprint, token: t.token, password: t.password, timeoutMs: t.timeoutMs, stateDir: t.deviceStateDir })) as Record<string, unknown>;
  } catch (err) {
    const e = err as RpcError;
    process.stderr.write(`${e.message}${e.code ? ` [${e.code}]` : ""}\n`);
    return null;
  }
}

interface SendFlags extends ChannelRpcFlags {
  channel: string;
  target: string;
  message: string;
  idempotencyKey?: string;
  account?: string;
}

export function registerMessageCommand(program: Command, setExit: (code: number) => void): void {
  const message = program.command("message").description("send messages through the gateway's channels");
  addChannelRpcFlags(
    message
      .command("send")
      .description("send a text message (idempotent: retrying with the same --idempotency-key never sends twice)")
      .requiredOption("--channel <channel>", "telegram | whatsapp")
      .requiredOption("--target <id>", "chat id / @username (Telegram) or E.164 / group JID (WhatsApp)")
      .requiredOption("--message <text>", "message text")
      .option("--account <id>", "channel account (default: default)")
      .option("--idempotency-key <key>", "dedupe key (default: a fresh UUID)")
      .addHelpText("after", `\nExample:\n  clawdbot message send --channel telegram --target 123456 --message "hi" --idempotency-key k1`),
  ).action(async (f: SendFlags) => {
    const key = f.idempotencyKey ?? randomUUID();
    const r = await channelRpc("send", { channel: f.channel, to: f.target, message: f.message, idempotencyKey: key, ...(f.account ? { accountId: f.account } : {}) }, f);
    if (!r) return setExit(1);
    process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : `Sent via ${String(r.channel)} to ${f.target} (message ${String(r.messageId)}, key ${key}).\n`);
    setExit(0);
  });
}
