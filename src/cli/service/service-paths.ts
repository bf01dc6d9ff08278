/**
 * Where service definitions and supervisor logs live, and what the service runs.
 *
 *   systemd user unit   $XDG_CONFIG_HOME/systemd/user/<unit>   (XDG_CONFIG_HOME = ~/.config)
 *   systemd system unit /etc/systemd/system/<unit>             (only scanned, never written)
 *   launchd agent       ~/Library/LaunchAgents/<label>.plist
 *   supervisor logs     <stateDir>/logs/gateway.log, gateway.err.log
 *   program             <node> <package>/dist/src/cli/entry.js gateway --port <port>
 */
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import type { Env } from "../../shared/config/paths.js";

/** Directory of system-wide systemd units (scanned by `gateway status --deep`). */
export const SYSTEMD_SYSTEM_UNIT_DIR = "/etc/systemd/system";

/** Directories of system-wide launchd jobs (scanned by `gateway status --deep`). */
export const LAUNCHD_SYSTEM_DIRS = ["/Library/LaunchDaemons", "/Library/LaunchAgents"];

/** `$XDG_CONFIG_HOME/systemd/user`, with XDG_CONFIG_HOME defaulting to `~/.config`. */
export function systemdUserUnitDir(env: Env = process.env, homedir: string = os.homedir()): string {
  const xdg = env.XDG_CONFIG_HOME?.trim();
  const base = xdg !== undefined && xdg !== "" && path.isAbsolute(xdg) ? xdg : path.join(homedir, ".config");
  return path.join(base, "systemd", "user");
}

/** `~/Library/LaunchAgents`. */
export function launchAgentsDir(homedir: string = os.homedir()): string {
  return path.join(homedir, "Library", "LaunchAgents");
}

/** The supervisor's stdout/stderr files under the state dir (§8.6). */
export function serviceLogPaths(stateDir: string): { stdout: string; stderr: string } {
  const prefix = "gateway";
  return { stdout: path.join(stateDir, "logs", `${prefix}.log`), stderr: path.join(stateDir, "logs", `${prefix}.err.log`) };
}

/** The package root: the nearest ancestor of this module holding a package.json. */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
}

/**
 * Absolute path of the built CLI entry the service runs (`dist/src/cli/entry.js`, which
 * installs the early SIGUSR1 handler before loading the CLI), also
 * when this CLI itself runs from source through tsx: a supervisor must not depend on a
 * TypeScript loader.
 */
export function resolveCliEntry(root: string = packageRoot()): string {
  return path.join(root, "dist", "src", "cli", "entry.js");
}
