/**
 * The script injected into served HTML: live reload plus the native action bridge
 * (protocol-reference §7.7). The bridge names are part of the contract with the iOS and
 * Android apps (`clawdbotCanvasA2UIAction`) and with canvas pages (`window.Clawdbot.*`,
 * `clawdbotPostMessage`, `clawdbotSendUserAction`).
 */
import { CAPABILITY_PREFIX, LIVE_RELOAD_WS_PATH } from "./canvas-paths.js";

const SCRIPT = `<script>
(() => {
  const handlerNames = ["clawdbotCanvasA2UIAction"];
  function postToNode(payload) {
    try {
      const raw = typeof payload === "string" ? payload : JSON.stringify(payload);
      for (const name of handlerNames) {
        const ios = globalThis.webkit && globalThis.webkit.messageHandlers && globalThis.webkit.messageHandlers[name];
        if (ios && typeof ios.postMessage === "function") { ios.postMessage(raw); return true; }
        const android = globalThis[name];
        if (android && typeof android.postMessage === "function") { android.postMessage(raw); return true; }
      }
    } catch (e) {}
    return false;
  }
  function sendUserAction(userAction) {
    const given = userAction && typeof userAction.id === "string" ? userAction.id.trim() : "";
    const id = given || (globalThis.crypto && globalThis.crypto.randomUUID ? globalThis.crypto.randomUUID() : String(Date.now()));
    return postToNode({ userAction: Object.assign({}, userAction, { id }) });
  }
  globalThis.Clawdbot = globalThis.Clawdbot || {};
  globalThis.Clawdbot.postMessage = postToNode;
  globalThis.Clawdbot.sendUserAction = sendUserAction;
  globalThis.clawdbotPostMessage = postToNode;
  globalThis.clawdbotSendUserAction = sendUserAction;
  try {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    // A page served under a capability mount opens the socket under the same mount.
    const cap = location.pathname.startsWith(${JSON.stringify(CAPABILITY_PREFIX)}) ? location.pathname.split("/").slice(0, 3).join("/") : "";
    const ws = new WebSocket(proto + "://" + location.host + cap + ${JSON.stringify(LIVE_RELOAD_WS_PATH)});
    ws.onmessage = (ev) => { if (String(ev.data || "") === "reload") location.reload(); };
  } catch (e) {}
})();
</script>
`;

const SCRIPT_BYTES = Buffer.from(SCRIPT, "utf8");
const BODY_CLOSE = "</body>";

/**
 * Returns `html` with the live-reload/bridge script inserted before the last `</body>`
 * (case-insensitive), or appended when there is none. Works on bytes so the document's own
 * encoding is preserved (any ASCII-compatible encoding): the search runs over a latin1 view,
 * which maps byte offsets 1:1.
 */
export function injectLiveReload(html: Buffer): Buffer {
  const at = html.toString("latin1").toLowerCase().lastIndexOf(BODY_CLOSE);
  if (at < 0) return Buffer.concat([html, SCRIPT_BYTES]);
  return Buffer.concat([html.subarray(0, at), SCRIPT_BYTES, html.subarray(at)]);
}
