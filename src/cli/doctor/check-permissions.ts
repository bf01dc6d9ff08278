/**
 * Doctor: the state dir holds credentials, pairing tables and the gateway token, so it
 * should be private: directories 0700, secret files 0600. Reports anything readable or
 * writable by group/others; --fix chmods it.
 *
 *   <stateDir>/                       0700
 *   credentials/ (recursive)          dirs 0700, files 0600
 *   identity/ devices/ nodes/ gateway/ *.json   0600
 *   config file (holds the token)     0600
 */
import fsp from "node:fs/promises";
import path from "node:path";

import type { DoctorCheck, DoctorContext } from "./doctor-types.js";

interface Loose {
  path: string;
  mode: number;
  want: number;
}

const SECRET_DIRS = ["identity", "devices", "nodes", "gateway"];
const MAX_DEPTH = 4;

async function stat(p: string): Promise<import("node:fs").Stats | undefined> {
  return fsp.lstat(p).catch(() => undefined);
}

async function collect(p: string, depth: number, out: Loose[], recurse: boolean): Promise<void> {
  const st = await stat(p);
  if (st === undefined || st.isSymbolicLink()) return;
  const mode = st.mode & 0o777;
  if (st.isDirectory()) {
    if ((mode & 0o077) !== 0) out.push({ path: p, mode, want: 0o700 });
    if (!recurse || depth >= MAX_DEPTH) return;
    for (const name of await fsp.readdir(p).catch(() => [] as string[])) await collect(path.join(p, name), depth + 1, out, recurse);
  } else if (st.isFile() && (mode & 0o077) !== 0) {
    out.push({ path: p, mode, want: 0o600 });
  }
}

/** Paths under the state dir (and the config file) that are looser than they should be. */
export async function findLoosePermissions(stateDir: string, configPath: string): Promise<Loose[]> {
  const out: Loose[] = [];
  const root = await stat(stateDir);
  if (root?.isDirectory() === true && (root.mode & 0o077) !== 0) out.push({ path: stateDir, mode: root.mode & 0o777, want: 0o700 });
  await collect(path.join(stateDir, "credentials"), 0, out, true);
  for (const dir of SECRET_DIRS) {
    for (const name of await fsp.readdir(path.join(stateDir, dir)).catch(() => [] as string[])) {
      if (name.endsWith(".json")) await collect(path.join(stateDir, dir, name), 0, out, false);
    }
  }
  await collect(configPath, 0, out, false);
  return out;
}

const octal = (m: number): string => `0${m.toString(8).padStart(3, "0")}`;

/** Checks (and with --fix tightens) the state dir permissions. */
export async function checkPermissions(ctx: DoctorContext): Promise<DoctorCheck> {
  if (process.platform === "win32") return { id: "permissions", status: "ok", message: "permission audit skipped on Windows" };
  if ((await stat(ctx.stateDir)) === undefined) return { id: "permissions", status: "ok", message: `state dir ${ctx.stateDir} does not exist yet` };
  const loose = await findLoosePermissions(ctx.stateDir, ctx.snap.path);
  if (loose.length === 0) return { id: "permissions", status: "ok", message: `${ctx.stateDir} is private (dirs 0700, secret files 0600)` };
  const list = loose.map((l) => `${l.path} (${octal(l.mode)}, want ${octal(l.want)})`).join(", ");
  if (!ctx.fix) {
    return { id: "permissions", status: "warn", message: `${loose.length} path(s) readable or writable by others: ${list}`, fix: `${ctx.cli} doctor --fix (chmod 700 dirs, 600 files)` };
  }
  const failed: string[] = [];
  for (const l of loose) await fsp.chmod(l.path, l.want).catch((err: Error) => failed.push(`${l.path}: ${err.message}`));
  if (failed.length > 0) return { id: "permissions", status: "warn", message: `could not tighten: ${failed.join("; ")}`, fix: "chmod them by hand (check the owner)" };
  return { id: "permissions", status: "ok", message: `tightened ${loose.length} path(s): ${list}`, fixed: true };
}
