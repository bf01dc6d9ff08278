/**
 * `gateway.tls`: the certificate the gateway serves `wss://` with.
 *
 * Never plaintext when TLS was asked for: every problem (unreadable or mismatched
 * cert/key, half a pair configured, generation refused) is a configuration error
 * (`GW_ERR_CONFIG_INVALID`, exit 78), so the gateway refuses to start instead.
 *
 *   certPath + keyPath      use them (both required together)
 *   neither                 `<stateDir>/gateway/tls/gateway-{cert,key}.pem`; created
 *                           self-signed when missing and `autoGenerate` (default true)
 *   caPath                  intermediate chain appended to the served certificate
 *
 * The SHA-256 fingerprint of the served certificate is logged at start so that
 * clients can pin it (`gateway.remote.tlsFingerprint`).
 */
import type { GatewayTlsOptions } from "../options.js";
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { GatewayError } from "../../shared/errors.js";
import { writeFileAtomic } from "../../shared/store/atomic-json.js";


/** What the server needs to serve TLS. */
export interface PreparedTls {
  /** File uWS reads the served certificate chain from. */
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint of the leaf certificate, `AB:CD:…`. */
  fingerprintSha256: string;
  /** True when this start generated the pair. */
  generated: boolean;
}

/** Where auto-generated TLS material lives. */
export function defaultTlsPaths(stateDir: string): { dir: string; cert: string; key: string; chain: string } {
  const dir = join(stateDir, "gateway", "tls");
  return { dir, cert: join(dir, "gateway-cert.pem"), key: join(dir, "gateway-key.pem"), chain: join(dir, "gateway-chain.pem") };
}

/** Normalises a SHA-256 fingerprint for comparison: hex digits only, lower case. */
export function normalizeFingerprint(fp: string): string {
  return fp
    .trim()
    .replace(/^sha-?256[:=\s]*/i, "")
    .replace(/[^0-9a-f]/gi, "")
    .toLowerCase();
}

function tlsError(message: string, details?: Record<string, unknown>): GatewayError {
  return new GatewayError("GW_ERR_CONFIG_INVALID", `gateway.tls: ${message}; refusing to serve without TLS`, details);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw tlsError(`cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { path });
  }
}

/** Checks that cert and key parse and belong together; returns the leaf's fingerprint. */
function checkPair(certPem: string, keyPem: string, certPath: string, keyPath: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    throw tlsError(`${certPath} is not a PEM certificate (${(err as Error).message})`, { path: certPath });
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw tlsError(`${keyPath} is not an unencrypted PEM private key (${(err as Error).message})`, { path: keyPath });
  }
  if (!cert.checkPrivateKey(key)) throw tlsError(`${keyPath} is not the private key of ${certPath}`, { certPath, keyPath });
  return cert.fingerprint256;
}

/** Generates a self-signed pair for this host (SANs: localhost, 127.0.0.1, ::1). */
async function generateSelfSigned(cert: string, key: string): Promise<void> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 10 * 365 * 24 * 3600 * 1000);
  // selfsigned (and its X.509 stack, ~200 files) is loaded only when a pair is generated.
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: "clawdbot-gateway" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  // Key first: a crash between the two writes leaves a key without cert, which the next
  // start regenerates (it checks both files), never a cert without its key.
  await writeFileAtomic(key, pems.private, { mode: 0o600, dirMode: 0o700 });
  await writeFileAtomic(cert, pems.cert, { mode: 0o600, dirMode: 0o700 });
}

/** Resolves, validates (and if needed generates) the TLS material. Throws exit-78 errors. */
export async function prepareTls(tls: GatewayTlsOptions, stateDir: string): Promise<PreparedTls> {
  if ((tls.certPath === undefined) !== (tls.keyPath === undefined)) {
    throw tlsError("certPath and keyPath must be set together");
  }
  let certPath = tls.certPath;
  let keyPath = tls.keyPath;
  let generated = false;
  const paths = defaultTlsPaths(stateDir);
  if (certPath === undefined || keyPath === undefined) {
    certPath = paths.cert;
    keyPath = paths.key;
    if (!(await exists(certPath)) || !(await exists(keyPath))) {
      if (!tls.autoGenerate) throw tlsError(`no certificate at ${certPath} and autoGenerate is false`, { path: certPath });
      try {
        await generateSelfSigned(certPath, keyPath);
      } catch (err) {
        throw tlsError(`could not create a self-signed certificate (${(err as Error).message})`);
      }
      generated = true;
    }
  }
  const certPem = await readPem(certPath, "certificate");
  const keyPem = await readPem(keyPath, "private key");
  const fingerprintSha256 = checkPair(certPem, keyPem, certPath, keyPath);
  let certFile = certPath;
  if (tls.caPath !== undefined) {
    const caPem = await readPem(tls.caPath, "CA chain");
    try {
      new X509Certificate(caPem);
    } catch (err) {
      throw tlsError(`${tls.caPath} is not a PEM certificate (${(err as Error).message})`, { path: tls.caPath });
    }
    certFile = paths.chain;
    await writeFileAtomic(certFile, `${certPem.trimEnd()}\n${caPem.trimEnd()}\n`, { mode: 0o600, dirMode: 0o700 });
  }
  return { certFile, keyFile: keyPath, fingerprintSha256, generated };
}
