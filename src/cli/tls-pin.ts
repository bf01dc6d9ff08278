/**
 * Certificate pinning for the CLI's wss:// connections.
 *
 * The local gateway's certificate is usually self-signed (`gateway.tls.autoGenerate`),
 * so the CLI pins the SHA-256 fingerprint of the certificate on disk instead of asking
 * a CA; remote gateways are pinned with `gateway.remote.tlsFingerprint`. The pin is
 * checked on the TLS socket before the WebSocket opens, so no credential is sent to a
 * server with another certificate.
 */
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { TLSSocket } from "node:tls";
import { expandHome } from "../shared/config/paths.js";
import { defaultTlsPaths, normalizeFingerprint } from "../main/server/tls.js";

/** Fingerprint of the local gateway's certificate, or undefined when it cannot be read. */
export async function localCertFingerprint(certPath: string | undefined, stateDir: string): Promise<string | undefined> {
  const file = certPath === undefined ? defaultTlsPaths(stateDir).cert : resolve(expandHome(certPath));
  try {
    return new X509Certificate(await readFile(file, "utf8")).fingerprint256;
  } catch {
    return undefined;
  }
}

/** Null when the peer certificate matches `pin`, else why not. */
export function checkPinnedCertificate(socket: TLSSocket, pin: string): string | null {
  const cert = socket.getPeerCertificate();
  const got = cert && typeof cert.fingerprint256 === "string" ? cert.fingerprint256 : "";
  if (!got) return "the server presented no certificate";
  return normalizeFingerprint(got) === normalizeFingerprint(pin) ? null : `TLS certificate fingerprint mismatch: expected ${pin}, got ${got}`;
}
