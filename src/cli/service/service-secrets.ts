/**
 * Secrets in service definitions. A systemd unit file is 0644 (systemd reads it, and so can
 * every local user when the home directory is traversable); a secret passed to `gateway
 * install --token` therefore goes into a separate `EnvironmentFile=` (mode 0600, written
 * atomically) next to the gateway's state: `<stateDir>/gateway/<unit>.env`. launchd has no
 * such indirection, so a plist is written 0600 as a whole.
 *
 * Env-file syntax (systemd.exec(5) EnvironmentFile=): one `KEY=value` per line; a value in
 * single quotes is taken literally; in double quotes `\"`, `\\`, `\$` and `` \` `` are
 * escapes. Values are written single-quoted unless they contain `'`.
 */
import fs from "node:fs/promises";
import path from "node:path";

/** Environment variables that hold secrets and never go into a world-readable file. */
export const SECRET_ENV_KEYS: ReadonlySet<string> = new Set(["CLAWDBOT_GATEWAY_TOKEN", "CLAWDBOT_GATEWAY_PASSWORD"]);

/** Splits an environment into what may be written in the clear and what may not. */
export function splitSecretEnvironment(env: Record<string, string>): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) (SECRET_ENV_KEYS.has(k) ? secret : plain)[k] = v;
  return { plain, secret };
}

/** `<stateDir>/gateway/<label>.env`: the 0600 secrets file of a systemd unit. */
export function serviceSecretsPath(stateDir: string, label: string): string {
  return path.join(stateDir, "gateway", `${label}.env`);
}

function quoteEnvValue(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error("cannot write a secret containing a newline or control character into an environment file");
  if (!value.includes("'")) return `'${value}'`;
  return `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** The env-file text for `secret` (deterministic). */
export function renderEnvironmentFile(secret: Record<string, string>): string {
  const lines = ["# clawdbot gateway service secrets (mode 0600; written by `clawdbot gateway install`)"];
  for (const [k, v] of Object.entries(secret)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
    lines.push(`${k}=${quoteEnvValue(v)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Parses env-file text (the subset `renderEnvironmentFile` writes, plus bare values). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    else if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1).replace(/\\([\\"$`])/g, "$1");
    out[key] = value;
  }
  return out;
}

/** Writes `text` to `file` with `mode`: temp file (same dir), fsync, rename, fsync of the dir. */
export async function writeFileAtomic(file: string, text: string, mode: number): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fh = await fs.open(tmp, "wx", mode);
  try {
    await fh.writeFile(text);
    await fh.chmod(mode);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  const d = await fs.open(dir, "r").catch(() => undefined);
  if (d !== undefined) {
    await d.sync().catch(() => undefined);
    await d.close();
  }
}

/** Merges the variables of `files` (missing or unreadable files are skipped) over `env`. */
export async function loadEnvironmentFiles(env: Record<string, string>, files: readonly string[]): Promise<Record<string, string>> {
  const out = { ...env };
  for (const f of files) {
    const text = await fs.readFile(f.replace(/^-/, ""), "utf8").catch(() => undefined);
    if (text !== undefined) Object.assign(out, parseEnvironmentFile(text));
  }
  return out;
}
