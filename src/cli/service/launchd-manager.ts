/**
 * launchd LaunchAgents in the user's GUI domain, controlled with
 * `launchctl bootstrap|bootout|kickstart -k|print gui/<uid>/<label>`.
 * `--deep` also scans /Library/LaunchDaemons and /Library/LaunchAgents.
 */
import os from "node:os";
import path from "node:path";

import type { Env } from "../../shared/config/paths.js";
import { listDefinitionFiles, readDefinitionFile, removeDefinitionFile, writeDefinitionFile } from "./definition-file.js";
import { parseLaunchdPlist, renderLaunchdPlist } from "./launchd-plist.js";
import { ServiceCommandError, type ExtraService, type ServiceInspection, type ServiceManager } from "./service-manager.js";
import { LAUNCHD_SYSTEM_DIRS, launchAgentsDir } from "./service-paths.js";
import { createToolRunner, describeCommand, resolveToolBinary, type ToolRunner } from "./run-tool.js";

/** Options of `createLaunchdManager`. */
export interface LaunchdManagerOptions {
  /** Label, e.g. `com.clawdbot.gateway`. */
  label: string;
  env?: Env;
  /** Default `os.homedir()`. */
  homedir?: string;
  /** User id of the GUI domain. Default `process.getuid()`. */
  uid?: number;
  /** Runs `launchctl`. Default: `resolveToolBinary("launchctl")` via execFile. */
  run?: ToolRunner;
  /** Directories scanned by `--deep`. Default /Library/LaunchDaemons, /Library/LaunchAgents. */
  systemDirs?: string[];
}

const PLIST_RE = /^com\.clawdbot\.[A-Za-z0-9_.-]+\.plist$/;

/** Parses `launchctl print` output (`state = running`, `pid = 123`, `last exit code = 0`). */
export function parseLaunchctlPrint(stdout: string): { state?: string; pid?: number; lastExitStatus?: number } {
  const field = (name: string): string | undefined => new RegExp(`^\\s*${name}\\s*=\\s*(.+?)\\s*$`, "m").exec(stdout)?.[1];
  const pid = Number(field("pid"));
  const exit = Number(field("last exit code"));
  return {
    state: field("state"),
    pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
    lastExitStatus: Number.isFinite(exit) && field("last exit code") !== undefined ? exit : undefined,
  };
}

/** A launchd LaunchAgent manager. */
export function createLaunchdManager(o: LaunchdManagerOptions): ServiceManager {
  const env = o.env ?? process.env;
  const homedir = o.homedir ?? os.homedir();
  const run = o.run ?? createToolRunner(resolveToolBinary("launchctl", env));
  const uid = o.uid ?? process.getuid?.() ?? 501;
  const domain = `gui/${uid}`;
  const target = `${domain}/${o.label}`;
  const agentsDir = launchAgentsDir(homedir);
  const plistPath = path.join(agentsDir, `${o.label}.plist`);

  const launchctl = async (args: string[], allowFailure = false): Promise<boolean> => {
    const r = await run(args);
    if (r.code !== 0 && !allowFailure) {
      const why = (r.stderr || r.stdout).trim() || `exit code ${r.code}`;
      throw new ServiceCommandError(`${describeCommand("launchctl", args)} failed: ${why}`, [
        "LaunchAgents need a logged-in GUI session for this user.",
        `The plist is at ${plistPath}; check it with \`plutil -lint ${plistPath}\`.`,
      ]);
    }
    return r.code === 0;
  };

  const requireInstalled = async (): Promise<void> => {
    if ((await readDefinitionFile(plistPath)) === null) {
      throw new ServiceCommandError(`${o.label} is not installed (no ${plistPath})`, ["Install it first: clawdbot gateway install"]);
    }
  };

  return {
    kind: "launchd",
    label: o.label,
    definitionPath: plistPath,
    loadedText: "loaded",
    notLoadedText: "not loaded",
    kindText: "LaunchAgent",
    render: renderLaunchdPlist,
    parse: parseLaunchdPlist,
    readDefinition: () => readDefinitionFile(plistPath),
    // 0600: EnvironmentVariables may hold the token (`install --token`); launchd reads it as us.
    writeDefinition: (text) => writeDefinitionFile(plistPath, text, 0o600),
    loadEnvironment: async (cmd) => ({ ...cmd.environment }),
    secretFiles: () => [plistPath],
    removeDefinition: () => removeDefinitionFile(plistPath),
    async activate() {
      // A job loaded from an older plist keeps its old definition until booted out.
      await launchctl(["bootout", target], true);
      await launchctl(["bootstrap", domain, plistPath]);
    },
    async deactivate() {
      await launchctl(["bootout", target], true);
    },
    async reloadDefinition() {
      // launchd re-reads a plist only on bootstrap; `gateway stop` + `gateway start` applies it.
    },
    async start() {
      await requireInstalled();
      // bootstrap starts the job (RunAtLoad); when it is already loaded, kick it instead.
      if (!(await launchctl(["bootstrap", domain, plistPath], true))) await launchctl(["kickstart", target]);
    },
    async stop() {
      await requireInstalled();
      await launchctl(["bootout", target]);
    },
    async restart() {
      await requireInstalled();
      await launchctl(["kickstart", "-k", target]);
    },
    async inspect(): Promise<ServiceInspection> {
      const r = await run(["print", target]);
      if (r.code !== 0) {
        const missing = /could not find|not find service|113/i.test(`${r.stderr}${r.stdout}`) || r.code === 113;
        return { loaded: false, runtime: { status: missing ? "stopped" : "unknown", missingUnit: missing ? true : undefined, detail: (r.stderr || r.stdout).trim() || undefined } };
      }
      const p = parseLaunchctlPrint(r.stdout);
      return {
        loaded: true,
        runtime: { status: p.state === "running" || p.pid !== undefined ? "running" : "stopped", state: p.state, pid: p.pid, lastExitStatus: p.lastExitStatus },
      };
    },
    async scanExtraServices(): Promise<ExtraService[]> {
      const found: ExtraService[] = [];
      const dirs: [string, ExtraService["scope"]][] = [[agentsDir, "user"], ...(o.systemDirs ?? LAUNCHD_SYSTEM_DIRS).map((d): [string, ExtraService["scope"]] => [d, "system"])];
      for (const [dir, scope] of dirs) {
        for (const file of await listDefinitionFiles(dir, PLIST_RE)) {
          if (file === plistPath) continue;
          const text = (await readDefinitionFile(file).catch(() => null)) ?? "";
          let clawdbot = false;
          try {
            clawdbot = parseLaunchdPlist(text).environment.CLAWDBOT_SERVICE_MARKER === "clawdbot";
          } catch {
            clawdbot = false;
          }
          found.push({ label: path.basename(file, ".plist"), detail: `${file}${clawdbot ? " (clawdbot profile service)" : ""}`, scope, clawdbot });
        }
      }
      return found;
    },
  };
}
