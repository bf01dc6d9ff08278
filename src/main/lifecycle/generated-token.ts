/**
 * The token `clawdbot gateway` generates when no auth is configured, so that even a
 * first `npm start` never serves an unauthenticated control plane. Persisted under
 * `<stateDir>/gateway/auth-token.json` (0600, atomic) and read back by the CLI's RPC
 * helpers as the last fallback for `--token`.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { readJsonFile, writeJsonAtomic } from "../../shared/store/atomic-json.js";

interface TokenFile {
  token: string;
  createdAtMs: number;
}

export function generatedTokenPath(stateDir: string): string {
  return join(stateDir, "gateway", "auth-token.json");
}

function isTokenFile(v: unknown): v is TokenFile {
  return typeof v === "object" && v !== null && typeof (v as TokenFile).token === "string" && (v as TokenFile).token.length >= 32;
}

/** The persisted generated token, if any. */
export async function readGeneratedToken(stateDir: string): Promise<string | undefined> {
  const f = await readJsonFile<TokenFile | null>(generatedTokenPath(stateDir), { fallback: () => null, validate: isTokenFile, onCorrupt: "quarantine" });
  return f?.token;
}

/** Returns the persisted token, generating (256 bits, hex) and saving one on first use. */
export async function ensureGeneratedToken(stateDir: string): Promise<{ token: string; created: boolean }> {
  const existing = await readGeneratedToken(stateDir);
  if (existing) return { token: existing, created: false };
  const token = randomBytes(32).toString("hex");
  await writeJsonAtomic(generatedTokenPath(stateDir), { token, createdAtMs: Date.now() });
  return { token, created: true };
}
