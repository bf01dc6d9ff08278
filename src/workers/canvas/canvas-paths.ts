/**
 * URL paths and defaults of the canvas host.
 *
 * Note the two spellings: HTTP assets live under `/__clawdbot__/…` (underscore pair on both
 * sides) while the live-reload socket is `/__clawdbot/ws` (no trailing pair). Both are part of
 * the wire contract with existing clawdbot clients (protocol-reference §7.7); do not "fix" them.
 */
import os from "node:os";
import path from "node:path";

/** Canvas files are served under this prefix (always with the trailing slash). */
export const CANVAS_PREFIX = "/__clawdbot__/canvas/";
/** A2UI assets are served under this prefix (always with the trailing slash). */
export const A2UI_PREFIX = "/__clawdbot__/a2ui/";
/**
 * Capability mount on a non-loopback bind: `/__cap/<token>` + any of the paths above. A
 * client gets it inside `hello-ok.canvasHostUrl`, so everything it appends (and every
 * relative URL of the pages it loads) stays under its capability.
 */
export const CAPABILITY_PREFIX = "/__cap/";
/** Live-reload WebSocket endpoint. */
export const LIVE_RELOAD_WS_PATH = "/__clawdbot/ws";
/** Default listening port of the canvas host (`canvasHost.port`). */
export const DEFAULT_CANVAS_PORT = 18793;
/** Default bind host of the canvas host: loopback only. */
export const DEFAULT_CANVAS_HOST = "127.0.0.1";

/** The default canvas root, `~/clawd/canvas` (`canvasHost.root`). */
export function defaultCanvasRoot(): string {
  return path.join(os.homedir(), "clawd", "canvas");
}
