/**
 * The account's Baileys auth directory: `creds.json` + signal key files
 * (`useMultiFileAuthState`), plus `creds.json.bak`.
 *
 * Baileys writes `creds.json` with a plain `writeFile`, so a crash mid-write can leave it
 * empty or truncated, which would silently unlink the account (Baileys starts from fresh
 * creds on a parse failure). Here creds are saved atomically (tmp + fsync + rename), and
 * every successful save refreshes `creds.json.bak` the same way; at load a `creds.json`
 * that does not parse is replaced by the backup before Baileys reads it.
 */
import { chmod, mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../../shared/store/atomic-json.js";
import type { AuthStateLike } from "./socket-types.js";

export const CREDS_FILE = "creds.json";
export const CREDS_BACKUP_FILE = "creds.json.bak";

/** Auth state plus the atomic, backed-up `saveCreds`. */
export interface LoadedAuth {
  state: AuthStateLike;
  saveCreds(): Promise<void>;
}

async function readJsonText(file: string): Promise<string | null> {
  try {
    const text = await readFile(file, "utf8");
    JSON.parse(text);
    return text;
  } catch {
    return null;
  }
}

/** True when `creds.json` exists and is non-empty (the reference's `webAuthExists`). */
export async function authExists(authDir: string): Promise<boolean> {
  try {
    const s = await stat(join(authDir, CREDS_FILE));
    return s.isFile() && s.size > 1;
  } catch {
    return false;
  }
}

/**
 * If `creds.json` exists but does not parse and `creds.json.bak` does, restores the
 * backup (atomically). Returns true when it restored.
 */
export async function restoreCredsFromBackup(authDir: string): Promise<boolean> {
  const credsPath = join(authDir, CREDS_FILE);
  let exists = true;
  try {
    await stat(credsPath);
  } catch {
    exists = false;
  }
  // A missing creds.json means "not linked" (logout deletes the whole dir); only a corrupt one is restored.
  if (!exists || (await readJsonText(credsPath)) !== null) return false;
  const backup = await readJsonText(join(authDir, CREDS_BACKUP_FILE));
  if (backup === null) return false;
  await writeFileAtomic(credsPath, backup);
  return true;
}

/** Own identity from `creds.json` (`me.id`), if linked. */
export async function readSelfJid(authDir: string): Promise<string | null> {
  const text = await readJsonText(join(authDir, CREDS_FILE));
  if (text === null) return null;
  const me = (JSON.parse(text) as { me?: { id?: unknown } }).me;
  return typeof me?.id === "string" ? me.id : null;
}

/**
 * Loads the multi-file auth state (restoring a corrupt `creds.json` from its backup
 * first). Baileys is imported here, inside the worker only.
 */
export async function loadAuthState(authDir: string): Promise<LoadedAuth & { restored: boolean }> {
  // The signal keys and creds are the account: owner-only. Baileys writes key files with the
  // default mode (0644 under umask 022), so the directory is what keeps them private.
  await mkdir(authDir, { recursive: true, mode: 0o700 });
  await chmod(authDir, 0o700);
  const restored = await restoreCredsFromBackup(authDir);
  const { useMultiFileAuthState, BufferJSON } = await import("@whiskeysockets/baileys");
  const { state } = await useMultiFileAuthState(authDir);
  let saving: Promise<void> = Promise.resolve();
  const saveCreds = (): Promise<void> => {
    // Serialised: two overlapping saves must not race their renames out of order.
    const next = saving.then(async () => {
      const text = JSON.stringify(state.creds, BufferJSON.replacer);
      await writeFileAtomic(join(authDir, CREDS_FILE), text);
      await writeFileAtomic(join(authDir, CREDS_BACKUP_FILE), text);
    });
    saving = next.catch(() => undefined);
    return next;
  };
  return { state: state as unknown as AuthStateLike, saveCreds, restored };
}

/** Deletes the auth dir. Returns true when there was something to delete. */
export async function clearAuth(authDir: string): Promise<boolean> {
  const had = await stat(authDir).then(
    () => true,
    () => false,
  );
  await rm(authDir, { recursive: true, force: true });
  return had;
}
