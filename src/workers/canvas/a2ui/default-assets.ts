/**
 * The fallback A2UI asset set, served from memory at `/__clawdbot__/a2ui/` only when the
 * worker got no `a2uiRoot`. The gateway passes the A2UI page built from `@a2ui/lit`
 * (`dist/a2ui`, src/control-ui/a2ui/, the same page the gateway port serves) whenever
 * `npm run build` produced it, so this shim only serves a tree that was never built (tsx
 * development). Kept as strings so `tsc` output needs no copy step.
 *
 * It is a shim, not the A2UI renderer: `a2ui.bundle.js` exposes `window.clawdbotA2UI` with
 * `render(messages)` that shows the raw A2UI messages and forwards user actions through the
 * injected bridge (`window.Clawdbot.sendUserAction`).
 */

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A2UI</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, sans-serif; }
  body { margin: 0; padding: 1rem; }
  pre { white-space: pre-wrap; word-break: break-word; }
</style>
</head>
<body>
<div id="a2ui-root"></div>
<script src="./a2ui.bundle.js"></script>
</body>
</html>
`;

const BUNDLE_JS = `(() => {
  "use strict";
  const root = () => document.getElementById("a2ui-root") || document.body;
  function render(messages) {
    const list = Array.isArray(messages) ? messages : [messages];
    const el = root();
    el.textContent = "";
    for (const msg of list) {
      const pre = document.createElement("pre");
      pre.textContent = typeof msg === "string" ? msg : JSON.stringify(msg, null, 2);
      el.appendChild(pre);
    }
    return list.length;
  }
  function sendUserAction(action) {
    const bridge = globalThis.Clawdbot;
    return bridge && typeof bridge.sendUserAction === "function" ? bridge.sendUserAction(action) : false;
  }
  // The page API the node apps call (as the built @a2ui/lit page exposes it).
  function applyMessages(messages) {
    render(typeof messages === "string" ? JSON.parse(messages) : messages);
    return { ok: true, surfaces: [] };
  }
  function reset() {
    root().textContent = "";
    return { ok: true, surfaces: [] };
  }
  globalThis.clawdbotA2UI = { version: "shim-1", render, applyMessages, reset, getSurfaces: () => [], sendUserAction };
})();
`;

/** Built-in assets by root-relative path. */
export const DEFAULT_A2UI_ASSETS: ReadonlyMap<string, { contentType: string; body: Buffer }> = new Map([
  ["index.html", { contentType: "text/html; charset=utf-8", body: Buffer.from(INDEX_HTML, "utf8") }],
  ["a2ui.bundle.js", { contentType: "text/javascript; charset=utf-8", body: Buffer.from(BUNDLE_JS, "utf8") }],
]);
