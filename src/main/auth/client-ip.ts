/**
 * Who is on the other end of a socket: loopback detection, client-IP resolution behind trusted
 * proxies (§2.4, `gateway.trustedProxies`) and the "local direct" test of §2.6 step 1.
 *
 * Addresses are compared in canonical form: uWS reports IPv6 peers fully expanded
 * (`0000:…:ffff:7f00:0001`), Node compressed (`::ffff:127.0.0.1`); `canonicalIp` maps both, and
 * IPv4-mapped IPv6 addresses, to one spelling (`127.0.0.1`, `::1`).
 */
import { SocketAddress, isIPv4, isIPv6 } from "node:net";

/**
 * Canonical spelling of an IP address (IPv4 dotted; IPv6 compressed lowercase; IPv4-mapped IPv6
 * → the IPv4 address; brackets and zone ids dropped), or undefined when `ip` is not an address.
 */
export function canonicalIp(ip: unknown): string | undefined {
  if (typeof ip !== "string") return undefined;
  let s = ip.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) return s;
  if (!isIPv6(s)) return undefined;
  const compressed = new SocketAddress({ address: s, family: "ipv6" }).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(compressed);
  return mapped !== null ? mapped[1] : compressed;
}

/** True for `127.*`, `::1` and `::ffff:127.*` (in any IPv6 spelling). Non-addresses are not loopback. */
export function isLoopbackAddress(ip: unknown): boolean {
  const c = canonicalIp(ip);
  if (c === undefined) return false;
  return c === "::1" || (isIPv4(c) && c.startsWith("127."));
}

/** True when `ip` equals one of the configured trusted proxies (compared canonically). */
export function isTrustedProxy(ip: unknown, trustedProxies: readonly string[] | undefined): boolean {
  const c = canonicalIp(ip);
  if (c === undefined || trustedProxies === undefined || trustedProxies.length === 0) return false;
  return trustedProxies.some((p) => canonicalIp(p) === c);
}

/** Request facts needed to place a client; copy them from the uWS request synchronously. */
export interface PeerInfo {
  /** Socket peer address (uWS `getRemoteAddressAsText`). */
  remoteAddress: string | undefined;
  /** `X-Forwarded-For` header ("" or undefined when absent). */
  forwardedFor?: string;
  /** `X-Real-IP` header. */
  realIp?: string;
  /** `X-Forwarded-Host` header. */
  forwardedHost?: string;
  /** `Host` header. */
  host?: string;
}

const present = (h: string | undefined): h is string => h !== undefined && h.trim() !== "";

/**
 * Client IP: the socket peer, or — only when the peer is a trusted proxy — the right-most
 * `X-Forwarded-For` entry that is not itself a trusted proxy (each proxy appends the address
 * it received from, so only the entries right of the last untrusted hop are facts; anything to
 * their left was written by the client and may be forged), else `X-Real-IP`. Falls back to the
 * peer when the headers do not parse (see `classifyPeer`, which then treats the client as
 * remote). Canonicalised; undefined when nothing usable is known.
 */
export function resolveClientIp(peer: PeerInfo, trustedProxies: readonly string[] | undefined): string | undefined {
  return forwardedClient(peer, trustedProxies) ?? canonicalIp(peer.remoteAddress);
}

/** The forwarded client address when the peer is a trusted proxy and its headers parse. */
function forwardedClient(peer: PeerInfo, trustedProxies: readonly string[] | undefined): string | undefined {
  const remote = canonicalIp(peer.remoteAddress);
  if (remote === undefined || !isTrustedProxy(remote, trustedProxies)) return undefined;
  if (present(peer.forwardedFor)) {
    const hops = peer.forwardedFor.split(",");
    let leftmost: string | undefined;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = canonicalIp(hops[i]);
      // An unparsable hop ends what can be trusted: the client is that hop's unknown sender.
      if (hop === undefined) return undefined;
      if (!isTrustedProxy(hop, trustedProxies)) return hop;
      leftmost = hop;
    }
    // Every hop is a trusted proxy: the left-most one is where the request entered.
    return leftmost;
  }
  if (present(peer.realIp)) return canonicalIp(peer.realIp);
  return undefined;
}

/** Where a client is, as the gateway acts on it. */
export interface PeerPlacement {
  /** Address used for budgets, rate limits and presence (canonical when it parses). */
  clientIp: string | undefined;
  /**
   * The client is on this machine: its address is loopback, and no proxy headers came from a
   * peer outside `trustedProxies` (those mean "a proxy on this host forwarded a remote client")
   * and none from a trusted proxy failed to parse.
   */
  isLocal: boolean;
  /** §2.6 step 1 (see `isLocalDirect`). */
  localDirect: boolean;
}

/** True when any forwarding header is present. */
export function hasProxyHeaders(peer: PeerInfo): boolean {
  return present(peer.forwardedFor) || present(peer.realIp) || present(peer.forwardedHost);
}

/** Places a client: address, locality and §2.6 "local direct", from one set of request facts. */
export function classifyPeer(peer: PeerInfo, trustedProxies: readonly string[] | undefined): PeerPlacement {
  const forwarded = hasProxyHeaders(peer);
  const trusted = isTrustedProxy(peer.remoteAddress, trustedProxies);
  const viaProxy = trusted ? forwardedClient(peer, trustedProxies) : undefined;
  const clientIp = viaProxy ?? canonicalIp(peer.remoteAddress);
  // Proxy headers from an untrusted peer, or unusable ones from a trusted proxy: the real client
  // is unknown and must be assumed remote.
  const unknownOrigin = forwarded && (!trusted || (viaProxy === undefined && (present(peer.forwardedFor) || present(peer.realIp))));
  const isLocal = !unknownOrigin && isLoopbackAddress(clientIp);
  return { clientIp, isLocal, localDirect: isLocal && isLocalDirect(peer, trustedProxies) };
}

/** Host part of a Host header (`[::1]:18789` → `::1`, `Example.ts.net:443` → `example.ts.net`). */
export function hostHeaderName(host: string | undefined): string {
  if (host === undefined) return "";
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return end > 0 ? h.slice(1, end) : h;
  }
  if (isIPv6(h)) return h;
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

/**
 * §2.6 step 1: client IP is loopback, the Host header names this machine (`localhost`,
 * `127.0.0.1`, `::1`, or a `*.ts.net` name served to loopback), and either no forwarding headers
 * are present or the socket peer is a trusted proxy.
 */
export function isLocalDirect(peer: PeerInfo, trustedProxies: readonly string[] | undefined): boolean {
  if (!isLoopbackAddress(resolveClientIp(peer, trustedProxies))) return false;
  const host = hostHeaderName(peer.host);
  const localHost = host === "localhost" || host === "127.0.0.1" || host === "::1" || host.endsWith(".ts.net");
  if (!localHost) return false;
  return !hasProxyHeaders(peer) || isTrustedProxy(peer.remoteAddress, trustedProxies);
}
