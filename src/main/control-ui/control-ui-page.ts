/**
 * The Control UI's `index.html` as served (§7.6): a `<script>` injected before `</head>` sets
 * `window.__CLAWDBOT_CONTROL_UI_BASE_PATH__`, `__CLAWDBOT_ASSISTANT_NAME__` and
 * `__CLAWDBOT_ASSISTANT_AVATAR__`. Built once per asset load; the Content-Security-Policy
 * allows exactly that inline script (by hash) and same-origin scripts.
 */
import { createHash } from "node:crypto";

/** What the injected script carries. */
export interface PageGlobals {
  basePath: string;
  assistantName: string;
  assistantAvatar: string | null;
}

/** JSON that is safe inside a `<script>` element (no `</script>`, no U+2028/2029 surprises). */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** The served page: HTML with the injected globals, and its Content-Security-Policy. */
export function buildIndexPage(template: Buffer, g: PageGlobals): { html: Buffer; csp: string } {
  const script =
    `window.__CLAWDBOT_CONTROL_UI_BASE_PATH__=${scriptJson(g.basePath)};` +
    `window.__CLAWDBOT_ASSISTANT_NAME__=${scriptJson(g.assistantName)};` +
    `window.__CLAWDBOT_ASSISTANT_AVATAR__=${scriptJson(g.assistantAvatar)};`;
  const tag = `<script>${script}</script>`;
  const text = template.toString("utf8");
  const at = text.search(/<\/head>/i);
  const html = at < 0 ? tag + text : text.slice(0, at) + tag + text.slice(at);
  const hash = createHash("sha256").update(script, "utf8").digest("base64");
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self' 'unsafe-inline'",
    // The page talks to its own gateway, or to a ?gatewayUrl= target the user confirmed.
    "connect-src 'self' ws: wss:",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    // Approve/Reject buttons must not be clickable through someone else's frame.
    "frame-ancestors 'none'",
  ].join("; ");
  return { html: Buffer.from(html, "utf8"), csp };
}
