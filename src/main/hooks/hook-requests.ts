/**
 * Validation of `/wake` and `/agent` hook bodies (§7.2 steps 5–6), also applied to what a
 * mapping renders. Errors carry the reference's messages (`text required`, `message
 * required`, `channel must be …`, `model required`).
 */
import { randomUUID } from "node:crypto";

/** Channel ids a hook may deliver to (`last` = the session's last channel). */
export const HOOK_CHANNELS = ["last", "whatsapp", "telegram", "discord", "slack", "signal", "imessage", "msteams"] as const;
const CHANNEL_ALIASES: Record<string, string> = { imsg: "imessage", teams: "msteams" };

export type WakeMode = "now" | "next-heartbeat";

/** A validated `/wake`. */
export interface HookWakeRequest {
  text: string;
  mode: WakeMode;
}

/**
 * A validated `/agent` request, handed to the injected `runAgent`. The run is an isolated
 * cron-style turn (lane `cron`) in `sessionKey`; afterwards it posts `Hook <name>: <summary>`
 * into the main session and, for `wakeMode: "now"`, requests a heartbeat.
 */
export interface HookAgentRequest {
  /** Answered to the caller in the 202 before the run starts. */
  runId: string;
  message: string;
  /** Default `"Hook"`. */
  name: string;
  /** Default `hook:<uuid>`. */
  sessionKey: string;
  /** Default `"now"`. */
  wakeMode: WakeMode;
  /** Default true; only a literal `false` disables delivery. */
  deliver: boolean;
  /** `last` (default) or a channel id. */
  channel: string;
  to?: string;
  model?: string;
  thinking?: string;
  /** Floored; > 0. */
  timeoutSeconds?: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

function wakeMode(v: unknown): WakeMode {
  return v === "next-heartbeat" ? "next-heartbeat" : "now";
}

/** `/wake` body → request, or `text required`. */
export function parseWake(body: Record<string, unknown>): Parsed<HookWakeRequest> {
  const text = typeof body.text === "string" ? body.text.trim() : "";
  if (text === "") return { ok: false, error: "text required" };
  return { ok: true, value: { text, mode: wakeMode(body.mode) } };
}

/** `/agent` body → request (with a fresh runId), or the reference's 400 message. */
export function parseAgent(body: Record<string, unknown>): Parsed<HookAgentRequest> {
  const message = typeof body.message === "string" ? body.message.trim() : "";
  if (message === "") return { ok: false, error: "message required" };
  let channel = "last";
  if (body.channel !== undefined) {
    const c = typeof body.channel === "string" ? body.channel.trim().toLowerCase() : "";
    const id = CHANNEL_ALIASES[c] ?? c;
    if (!(HOOK_CHANNELS as readonly string[]).includes(id)) return { ok: false, error: `channel must be ${HOOK_CHANNELS.join("|")}` };
    channel = id;
  }
  let model: string | undefined;
  if (body.model !== undefined) {
    model = typeof body.model === "string" ? body.model.trim() : "";
    if (model === "") return { ok: false, error: "model required" };
  }
  const name = typeof body.name === "string" && body.name.trim() !== "" ? body.name.trim() : "Hook";
  const sessionKey = typeof body.sessionKey === "string" && body.sessionKey.trim() !== "" ? body.sessionKey.trim() : `hook:${randomUUID()}`;
  const req: HookAgentRequest = { runId: randomUUID(), message, name, sessionKey, wakeMode: wakeMode(body.wakeMode), deliver: body.deliver !== false, channel };
  if (typeof body.to === "string" && body.to.trim() !== "") req.to = body.to.trim();
  if (model !== undefined) req.model = model;
  if (typeof body.thinking === "string" && body.thinking.trim() !== "") req.thinking = body.thinking.trim();
  if (typeof body.timeoutSeconds === "number" && Number.isFinite(body.timeoutSeconds) && body.timeoutSeconds > 0) {
    const t = Math.floor(body.timeoutSeconds);
    if (t > 0) req.timeoutSeconds = t;
  }
  return { ok: true, value: req };
}
