/**
 * `sessions.list`, `.preview`, `.reset`, `.delete`, `.patch` (§3.10). The stores are the
 * runtime's (one owner per `sessions.json`); changes are flushed before the answer.
 * Transcript maintenance (reset, delete) runs on the session's lane, so it never races a
 * run writing the same file.
 */
import { randomUUID } from "node:crypto";
import { rename } from "node:fs/promises";
import { GatewayError } from "../../shared/errors.js";
import type { SessionEntry } from "../../shared/store/sessions/session-store.js";
import { readTranscript, messagesOf } from "../../shared/store/sessions/transcript.js";
import type { TranscriptMessage } from "../../shared/store/sessions/transcript-types.js";
import type { MethodTable } from "../router.js";
import { agentSettings } from "./agent-settings.js";
import type { AgentRuntime } from "./agent-runtime.js";
import { THINKING_LEVELS } from "../../shared/run-directives.js";

const invalid = (m: string): GatewayError => new GatewayError("GW_ERR_PROTO_INVALID_PARAMS", m);

function kindOf(key: string): "direct" | "group" | "global" | "unknown" {
  if (key === "global") return "global";
  if (key === "unknown") return "unknown";
  return /:(group|channel):/.test(key) ? "group" : "direct";
}

const ROW_FIELDS = ["label", "displayName", "channel", "subject", "sessionId", "systemSent", "abortedLastRun", "thinkingLevel", "verboseLevel", "reasoningLevel", "elevatedLevel", "sendPolicy", "inputTokens", "outputTokens", "responseUsage", "modelProvider", "model", "contextTokens", "lastChannel", "lastTo", "lastAccountId"] as const;

function row(key: string, e: SessionEntry): Record<string, unknown> {
  const r: Record<string, unknown> = { key, kind: kindOf(key), updatedAt: typeof e.updatedAt === "number" ? e.updatedAt : null, totalTokens: e.totalTokens ?? 0 };
  for (const f of ROW_FIELDS) if (e[f] !== undefined) r[f] = e[f];
  if (r.displayName === undefined && typeof e.label === "string") r.displayName = e.label;
  return r;
}

function textOf(m: TranscriptMessage): string {
  if (typeof m.content === "string") return m.content;
  const parts: string[] = [];
  const calls: string[] = [];
  for (const c of m.content) {
    if (c.type === "text") parts.push(c.text);
    else if (c.type === "toolCall") calls.push(c.name);
  }
  if (calls.length > 0) parts.push(`call ${calls.slice(0, 2).join(", ")}${calls.length > 2 ? ` +${calls.length - 2}` : ""}`);
  return parts.join("\n");
}

const VERBOSE = new Set(["on", "off", "full"]);
const THINKING = new Set<string>(THINKING_LEVELS);
const REASONING = new Set(["on", "off", "stream"]);
const ELEVATED = new Set(["on", "off", "ask", "full"]);

export function registerSessionMethods(methods: MethodTable, runtime: AgentRuntime): void {
  methods.add("sessions.list", "SessionsListParams", async ({ ctx, params: p }) => {
    const s = agentSettings(ctx.options);
    const agentIds = p.agentId !== undefined ? [p.agentId.toLowerCase()] : s.agentIds;
    const now = Date.now();
    let rows: Record<string, unknown>[] = [];
    let path = "";
    for (const id of agentIds) {
      const store = await runtime.store(id);
      if (path === "") path = store.path;
      for (const [key, e] of store.list()) rows.push(row(key, e));
    }
    const search = p.search?.trim().toLowerCase();
    rows = rows.filter((r) => {
      if (r.kind === "global" && p.includeGlobal !== true) return false;
      if (r.kind === "unknown" && p.includeUnknown !== true) return false;
      if (p.label !== undefined && r.label !== p.label) return false;
      if (search) {
        const hay = [r.displayName, r.label, r.subject, r.sessionId, r.key].filter((v): v is string => typeof v === "string").map((v) => v.toLowerCase());
        if (!hay.some((v) => v.includes(search))) return false;
      }
      if (p.activeMinutes !== undefined && (typeof r.updatedAt !== "number" || now - r.updatedAt > p.activeMinutes * 60_000)) return false;
      return true;
    });
    rows.sort((a, b) => ((b.updatedAt as number | null) ?? 0) - ((a.updatedAt as number | null) ?? 0));
    if (p.limit !== undefined) rows = rows.slice(0, p.limit);
    const recent = rows.find((r) => typeof r.model === "string");
    const defaults = { modelProvider: (recent?.modelProvider as string | undefined) ?? null, model: (recent?.model as string | undefined) ?? null, contextTokens: (recent?.contextTokens as number | undefined) ?? null };
    return { ts: now, path, count: rows.length, defaults, sessions: rows };
  });

  methods.add("sessions.preview", "SessionsPreviewParams", async ({ params: p }) => {
    const limit = Math.min(p.limit ?? 12, 50);
    const maxChars = Math.min(Math.max(p.maxChars ?? 240, 20), 2000);
    const previews = [];
    for (const raw of p.keys.slice(0, 64)) {
      try {
        const { key, agentId } = runtime.resolveKey(raw);
        const store = await runtime.store(agentId);
        const entry = store.get(key);
        if (entry === undefined) {
          previews.push({ key: raw, status: "missing", items: [] });
          continue;
        }
        const msgs = messagesOf((await readTranscript(store.transcriptPath(entry))).entries).slice(-limit);
        const items = msgs.map((m) => {
          const text = textOf(m);
          return { role: m.role === "toolResult" ? "tool" : m.role, text: text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text };
        });
        previews.push({ key: raw, status: items.length > 0 ? "ok" : "empty", items });
      } catch {
        previews.push({ key: raw, status: "error", items: [] });
      }
    }
    return { ts: Date.now(), previews };
  });

  methods.add("sessions.reset", "SessionsResetParams", async ({ params }) => {
    const { key, agentId } = runtime.resolveKey(params.key);
    const store = await runtime.store(agentId);
    const entry = await runtime.lanes.exclusive(key, async () => {
      const cur = store.get(key);
      const keep: Partial<SessionEntry> = {};
      for (const f of ["thinkingLevel", "verboseLevel", "reasoningLevel", "responseUsage", "model", "contextTokens", "sendPolicy", "label", "lastChannel", "lastTo", "skillsSnapshot", "providerOverride", "modelOverride", "displayName"]) if (cur?.[f] !== undefined) keep[f] = cur[f];
      if (cur === undefined) store.resolveForRun(key);
      return store.patch(key, { ...keep, sessionId: randomUUID(), systemSent: false, abortedLastRun: false, inputTokens: 0, outputTokens: 0, totalTokens: 0, sessionFile: undefined });
    });
    await store.flush();
    return { ok: true, key, entry };
  });

  methods.add("sessions.delete", "SessionsDeleteParams", async ({ ctx, params }) => {
    const s = agentSettings(ctx.options);
    const { key, agentId } = runtime.resolveKey(params.key);
    if (key === `agent:${s.defaultAgentId}:${s.keys.mainKey ?? "main"}` || key === "global") throw invalid(`Cannot delete the main session (${key}).`);
    const store = await runtime.store(agentId);
    runtime.abortSession(key, "rpc");
    let timer: NodeJS.Timeout | undefined;
    const busy = new Promise<"busy">((r) => (timer = setTimeout(() => r("busy"), 15_000)));
    const result = await Promise.race([
      runtime.lanes.exclusive(key, async () => {
        const entry = store.delete(key);
        const archived: string[] = [];
        if (entry !== undefined && params.deleteTranscript !== false) {
          const file = store.transcriptPath(entry);
          const to = `${file}.deleted.${new Date().toISOString().replaceAll(":", "-")}`;
          try {
            await rename(file, to);
            archived.push(to);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
          }
        }
        await store.flush();
        return { ok: true, key, deleted: entry !== undefined, archived };
      }),
      busy,
    ]);
    clearTimeout(timer);
    if (result === "busy") throw new GatewayError("GW_ERR_AGENT_SESSION_BUSY", `Session ${key} is still active; try again in a moment.`);
    return result;
  });

  methods.add("sessions.patch", "SessionsPatchParams", async ({ params: p }) => {
    const { key, agentId } = runtime.resolveKey(p.key);
    const store = await runtime.store(agentId);
    if (store.get(key) === undefined) store.resolveForRun(key);
    const patch: Partial<SessionEntry> = {};
    const set = (field: string, v: string | null | undefined, allowed?: Set<string>, offDeletes = false): void => {
      if (v === undefined) return;
      if (v !== null && allowed !== undefined && !allowed.has(v)) throw invalid(`invalid ${field}: ${v}`);
      patch[field] = v === null || (offDeletes && v === "off") ? undefined : v;
    };
    if (p.label !== undefined) {
      const dup = p.label !== null && store.list().some(([k, e]) => k !== key && e.label === p.label);
      if (dup) throw invalid(`label already in use: ${p.label}`);
      set("label", p.label);
    }
    set("thinkingLevel", p.thinkingLevel, THINKING, true);
    set("verboseLevel", p.verboseLevel, VERBOSE);
    set("reasoningLevel", p.reasoningLevel, REASONING, true);
    set("responseUsage", p.responseUsage, undefined, true);
    set("elevatedLevel", p.elevatedLevel, ELEVATED);
    set("execHost", p.execHost, new Set(["sandbox", "gateway", "node"]));
    set("execSecurity", p.execSecurity, new Set(["deny", "allowlist", "full"]));
    set("execAsk", p.execAsk, new Set(["off", "on-miss", "always"]));
    set("execNode", p.execNode);
    set("sendPolicy", p.sendPolicy);
    set("groupActivation", p.groupActivation);
    if (p.spawnedBy !== undefined) {
      if (!/(^|:)subagent:/.test(key)) throw invalid("spawnedBy is only supported for subagent:* sessions");
      const cur = store.get(key)?.spawnedBy;
      if (cur !== undefined && cur !== p.spawnedBy) throw invalid("spawnedBy cannot be changed once set");
      set("spawnedBy", p.spawnedBy);
    }
    if (p.model !== undefined) {
      if (p.model === null) Object.assign(patch, { providerOverride: undefined, modelOverride: undefined });
      else {
        const slash = p.model.indexOf("/");
        if (slash <= 0 || slash === p.model.length - 1) throw invalid(`invalid model: ${p.model} (expected provider/model)`);
        Object.assign(patch, { providerOverride: p.model.slice(0, slash), modelOverride: p.model.slice(slash + 1), authProfileOverride: undefined });
      }
    }
    const entry = store.patch(key, patch);
    await store.flush();
    return { ok: true, path: store.path, key, entry };
  });
}
