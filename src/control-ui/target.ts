/**
 * Which gateway the page talks to, and whether it may connect without asking.
 *
 * Default: the gateway that served the page (`ws(s)://<location.host>`). A `?gatewayUrl=`
 * names another one. That parameter is how CVE-2026-25253 worked: a link opened the UI with
 * an attacker's `gatewayUrl`, the page connected at once and handed over the stored token.
 * Here an explicit target never connects by itself (the page shows it and asks first), and
 * `ws://` (cleartext) is refused unless the host is loopback: a token sent in the clear over
 * a network is as good as published. No DOM use: unit-tested under node.
 */

/** The resolved target. */
export interface GatewayTarget {
  /** WebSocket URL to connect to (empty when refused). */
  url: string;
  /** True when it came from `?gatewayUrl=` (then the user must confirm before any credential is sent). */
  explicit: boolean;
  /** Why the target is refused; the page shows it and offers no Connect button. */
  refused?: string;
}

/** True for `localhost`, `*.localhost`, 127.0.0.0/8 and `::1` (brackets optional). */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (/^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Resolves the target from the page's location (`protocol`, `host`, `search`). */
export function resolveTarget(loc: { protocol: string; host: string; search: string }): GatewayTarget {
  const own = `${loc.protocol === "https:" ? "wss" : "ws"}://${loc.host}`;
  const raw = new URLSearchParams(loc.search).get("gatewayUrl");
  if (raw === null || raw.trim() === "") return { url: own, explicit: false };
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { url: "", explicit: true, refused: "gatewayUrl is not a valid URL" };
  }
  if (u.protocol !== "ws:" && u.protocol !== "wss:") return { url: "", explicit: true, refused: "gatewayUrl must be a ws:// or wss:// URL" };
  if (u.username !== "" || u.password !== "") return { url: "", explicit: true, refused: "gatewayUrl must not carry credentials" };
  if (u.protocol === "ws:" && !isLoopbackHost(u.hostname)) {
    return { url: "", explicit: true, refused: `refusing unencrypted ws:// to non-loopback host ${u.hostname} (use wss://)` };
  }
  // Only scheme, host and path: a query or fragment on the target is dropped.
  return { url: `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`, explicit: true };
}

/**
 * Reads `#token=` from a fragment. Returns the token and the fragment without it (to put back
 * with `history.replaceState`, so the token leaves the address bar and the history entry).
 */
export function takeFragmentToken(hash: string): { token: string | null; rest: string } {
  const h = hash.startsWith("#") ? hash.slice(1) : hash;
  if (h === "") return { token: null, rest: "" };
  const params = new URLSearchParams(h);
  const token = params.get("token");
  if (token === null) return { token: null, rest: hash };
  params.delete("token");
  const rest = params.toString();
  return { token: token === "" ? null : token, rest: rest === "" ? "" : `#${rest}` };
}
