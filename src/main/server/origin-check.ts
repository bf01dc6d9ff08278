/**
 * Origin check, done in the uWS upgrade handler before the 101.
 *
 * Browsers always send `Origin` on WebSocket upgrades; native clients (CLI, apps,
 * nodes) send none and are let through. A browser origin is allowed only when it is
 * listed in `gateway.controlUi.allowedOrigins`, or when it is the gateway's own
 * address: origin host == Host header host (so a page served by this gateway
 * talks to it) AND that host is a name this machine answers to as the gateway
 * (loopback names, the bind address, or the machine's hostname). The second half
 * stops DNS-rebinding pages, whose Origin and Host agree but name the attacker's
 * domain. The reference checked nothing before the upgrade, which is how any web
 * page could drive a local gateway.
 */
import os from "node:os";
import { canonicalIp, hostHeaderName, isLoopbackAddress } from "../auth/client-ip.js";

export interface OriginPolicy {
  allowedOrigins: readonly string[];
  bindHost: string;
}

function originParts(origin: string): { host: string; port: string; normalized: string } | null {
  try {
    const u = new URL(origin);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    const port = u.port || (u.protocol === "https:" ? "443" : "80");
    const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
    return { host: host.toLowerCase(), port, normalized: `${u.protocol}//${u.host}`.toLowerCase() };
  } catch {
    return null;
  }
}

function hostPort(hostHeader: string): string {
  const h = hostHeader.trim();
  const m = /:(\d+)$/.exec(h.startsWith("[") ? h.slice(h.indexOf("]") + 1) : h);
  return m ? m[1]! : "80";
}

function isOwnHostName(host: string, bindHost: string): boolean {
  if (host === "localhost" || isLoopbackAddress(host)) return true;
  const ip = canonicalIp(host);
  if (ip !== undefined && ip === canonicalIp(bindHost)) return true;
  return host === os.hostname().toLowerCase();
}

/** True when a request with this Origin (and Host) may upgrade. */
export function isOriginAllowed(origin: string, hostHeader: string, policy: OriginPolicy): boolean {
  if (origin === "") return true;
  const parts = originParts(origin);
  if (!parts) return false;
  if (policy.allowedOrigins.some((o) => o.trim().toLowerCase().replace(/\/+$/, "") === parts.normalized)) return true;
  const host = hostHeaderName(hostHeader);
  if (host === "" || host !== parts.host) return false;
  if (hostPort(hostHeader) !== parts.port) return false;
  return isOwnHostName(host, policy.bindHost);
}
