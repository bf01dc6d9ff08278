/**
 * The page's device identity (protocol reference §2.4): an Ed25519 key pair made with
 * WebCrypto, kept in IndexedDB with a NON-extractable private key (script on the page can
 * sign with it but never read it out). Only available in a secure context (HTTPS or
 * localhost) where the browser supports Ed25519; otherwise the page falls back to token-only
 * auth, which the gateway accepts only with `gateway.controlUi.allowInsecureAuth`.
 */

/** A loaded identity. */
export interface BrowserDevice {
  /** Lowercase hex SHA-256 of the raw public key. */
  id: string;
  /** base64url (no padding) of the raw 32-byte public key. */
  publicKey: string;
  privateKey: CryptoKey;
}

const DB = "clawdbot-control-ui";
const STORE = "identity";
const KEY = "device";

function b64url(bytes: ArrayBuffer): string {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function idb<T>(db: IDBDatabase, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = op(db.transaction(STORE, mode).objectStore(STORE));
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error);
  });
}

/** True when this page can hold a device identity. */
export function deviceIdentitySupported(): boolean {
  return globalThis.isSecureContext === true && typeof crypto !== "undefined" && crypto.subtle !== undefined && typeof indexedDB !== "undefined";
}

/** Loads the stored identity or creates one. Undefined when unsupported (no secure context, no Ed25519). */
export async function loadOrCreateDevice(): Promise<BrowserDevice | undefined> {
  if (!deviceIdentitySupported()) return undefined;
  try {
    const db = await openDb();
    try {
      const stored = await idb<BrowserDevice | undefined>(db, "readonly", (s) => s.get(KEY));
      if (stored && typeof stored.id === "string" && stored.privateKey instanceof CryptoKey) return stored;
      const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"])) as CryptoKeyPair;
      const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
      const device: BrowserDevice = { id: hex(await crypto.subtle.digest("SHA-256", raw)), publicKey: b64url(raw), privateKey: pair.privateKey };
      await idb(db, "readwrite", (s) => s.put(device, KEY));
      return device;
    } finally {
      db.close();
    }
  } catch {
    // No Ed25519 in this browser, or storage refused (private mode): token-only auth.
    return undefined;
  }
}

/** Fields of the v2 signed payload (§2.4). */
export interface SignInput {
  clientId: string;
  clientMode: string;
  role: string;
  /** Scopes exactly as sent in `connect.params.scopes`. */
  scopes: readonly string[];
  token: string;
  nonce: string | undefined;
}

/** Signs the connect payload; returns `connect.params.device`. */
export async function signConnect(device: BrowserDevice, p: SignInput): Promise<{ id: string; publicKey: string; signature: string; signedAt: number; nonce?: string }> {
  const signedAt = Date.now();
  const parts = [p.nonce !== undefined ? "v2" : "v1", device.id, p.clientId, p.clientMode, p.role, p.scopes.join(","), String(signedAt), p.token];
  if (p.nonce !== undefined) parts.push(p.nonce);
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, device.privateKey, new TextEncoder().encode(parts.join("|")));
  return { id: device.id, publicKey: device.publicKey, signature: b64url(sig), signedAt, ...(p.nonce !== undefined ? { nonce: p.nonce } : {}) };
}
