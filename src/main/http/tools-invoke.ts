/**
 * `POST /tools/invoke` (§7.3): runs one tool of the agent's tool set in the agent workspace
 * (`agents.defaults.workspace`, default `~/clawd`), with the agent's tool policy
 * (`tools.allow` / `tools.deny`, `tools.exec.enabled`; `buildTools` of the agent worker's
 * tool registry). Mounted at the `tools` stage; other methods get 405 from the table.
 *
 * Auth is the gateway's shared auth (`Authorization: Bearer` tried as token and password;
 * mode `none` passes); failures answer 401 and count toward the auth rate limiter like a
 * failed WS handshake.
 *
 * Where the tool runs: on the main thread. The file tools only do async fs I/O (no sync
 * calls; reads are bounded to 20 MiB and the output to 50 KiB) and `exec` spawns a child
 * process and streams its output, so neither blocks the event loop beyond the JSON and
 * text handling of one bounded result. A tool that needs CPU (or a sync API) must run in
 * the agent pool instead; the handler would then post to it — see docs/http.md.
 */
import type { HttpRequest, HttpResponse } from "uWebSockets.js";
import { resolveClientIp } from "../auth/client-ip.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { checkBearer, readBearerCredential, sendUnauthorized } from "./bearer-auth.js";
import { readBody } from "./read-body.js";
import { endOnce, trackResponse, type ResponseState } from "./response-state.js";
import { buildTools } from "../../workers/agent/tools/tool-registry.js";
import { workspaceRoot } from "../../workers/agent/tools/workspace-path.js";
import { resolveWorkspace } from "../../workers/agent/agent-config.js";

export const TOOLS_INVOKE_MODULE = "tools-invoke";
/** Largest `/tools/invoke` body (§7.3). */
export const TOOLS_INVOKE_MAX_BODY_BYTES = 2 * 1024 * 1024;

const JSON_TYPE = { "Content-Type": "application/json; charset=utf-8" };

function invalid(message: string): string {
  return JSON.stringify({ error: { message, type: "invalid_request_error" } });
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function answer(res: HttpResponse, state: ResponseState, status: string, body: string): void {
  endOnce(res, state, status, JSON_TYPE, body);
}

/** The `/tools/invoke` endpoint as a module. */
export function toolsInvokeModule(): GatewayModuleDef {
  return {
    name: TOOLS_INVOKE_MODULE,
    register(r) {
      const ctx = r.core;
      const run = async (res: HttpResponse, state: ResponseState, buf: Buffer): Promise<void> => {
        let body: unknown;
        try {
          body = buf.length === 0 ? {} : JSON.parse(buf.toString("utf8"));
        } catch (err) {
          return answer(res, state, "400 Bad Request", invalid(err instanceof Error ? err.message : "invalid JSON"));
        }
        if (!isObj(body) || typeof body.tool !== "string" || body.tool.trim() === "") {
          return answer(res, state, "400 Bad Request", invalid("tools.invoke requires body.tool"));
        }
        const name = body.tool.trim();
        const cfg = ctx.live.current.agentRuntime ?? {};
        const tool = buildTools(cfg).find((t) => t.spec.name === name);
        if (tool === undefined) {
          return answer(res, state, "404 Not Found", JSON.stringify({ ok: false, error: { type: "not_found", message: `Tool not available: ${name}` } }));
        }
        const args: Record<string, unknown> = isObj(body.args) ? { ...body.args } : {};
        const props = (tool.spec.parameters as { properties?: Record<string, unknown> }).properties;
        if (typeof body.action === "string" && props !== undefined && Object.prototype.hasOwnProperty.call(props, "action") && args.action === undefined) {
          args.action = body.action;
        }
        try {
          const root = await workspaceRoot(resolveWorkspace(cfg));
          const out = await tool.execute(args, { root, signal: state.signal });
          answer(res, state, "200 OK", JSON.stringify({ ok: true, result: out }));
        } catch (err) {
          answer(res, state, "400 Bad Request", JSON.stringify({ ok: false, error: { type: "tool_error", message: err instanceof Error ? err.message : String(err) } }));
        }
      };

      r.extra.http.mount({
        stage: "tools",
        path: { exact: "/tools/invoke" },
        methods: ["POST"],
        handler: (res: HttpResponse, req: HttpRequest) => {
          const state = trackResponse(res);
          const cred = readBearerCredential(req, { query: "ignore" });
          const ip = resolveClientIp(
            { remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(), forwardedFor: req.getHeader("x-forwarded-for"), realIp: req.getHeader("x-real-ip") },
            ctx.live.current.trustedProxies,
          );
          if (!ctx.authLimiter.check(ip).allowed || !checkBearer(cred, { auth: ctx.live.current.auth }, "ignore")) {
            if (cred.token !== undefined) ctx.authLimiter.recordFailure(ip);
            sendUnauthorized(res, "json");
            return;
          }
          return readBody(res, req, {
            maxBytes: TOOLS_INVOKE_MAX_BODY_BYTES,
            tooLarge: { status: "400 Bad Request", contentType: JSON_TYPE["Content-Type"], body: invalid(`request body exceeds ${TOOLS_INVOKE_MAX_BODY_BYTES} bytes`) },
          }).then((buf) => run(res, state, buf));
        },
      });
    },
  };
}
