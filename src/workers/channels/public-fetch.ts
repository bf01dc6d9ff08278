/**
 * GET of a URL that someone outside the operator chose (a `MEDIA:` line in a model's reply,
 * which a chat message can steer): it must not reach this host or its private networks, or
 * the reply would carry what a local service answered to the chat (SSRF). Every address the
 * name resolves to is checked, and the checked address is the one connected to (the lookup
 * is the socket's own, so a name cannot re-resolve elsewhere in between); literal
 * addresses, and each redirect hop (at most `maxRedirects`, http/https only), are checked the same way.
 */
import { lookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12],
  ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 3],
] as const) PRIVATE.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [["::", 127], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2002::", 16]] as const) PRIVATE.addSubnet(net, bits, "ipv6");

/** Loopback, private, link-local, CGNAT, multicast and reserved ranges (v4, v6, v4-mapped, NAT64, 6to4). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return PRIVATE.check(address, family === 4 ? "ipv4" : "ipv6");
}

const refused = (what: string): Error => Object.assign(new Error(`media on a private address refused (${what})`), { code: "EMEDIAPRIVATE" });

const publicLookup = ((hostname: string, options: LookupAllOptions, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void): void => {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, "");
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad !== undefined || addresses.length === 0) return callback(refused(`${hostname} → ${bad?.address ?? "nothing"}`), "");
    if ((options as { all?: boolean }).all === true) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}) as unknown as LookupFunction;

/** GETs `ref` on public addresses only; resolves with the final response (2xx or not) and its URL. */
export async function publicGet(ref: string, signal: AbortSignal, maxRedirects = 3): Promise<{ res: IncomingMessage; url: string }> {
  let url = new URL(ref);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`media URL scheme ${url.protocol} refused`);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (isIP(host) !== 0 && isPrivateAddress(host)) throw refused(host);
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method: "GET", lookup: publicLookup, signal }, resolve);
      req.once("error", reject);
      req.end();
    });
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && location !== undefined) {
      res.resume();
      if (hop >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects`);
      url = new URL(location, url);
      continue;
    }
    return { res, url: url.href };
  }
}
