/**
 * systemd user units, controlled with `systemctl --user` (daemon-reload, enable --now,
 * disable --now, start, stop, restart, show). System units under /etc/systemd/system
 * are only scanned (`status --deep`), never written.
 */
import os from "node:os";
import path from "node:path";

import type { Env } from "../../shared/config/paths.js";
import { listDefinitionFiles, readDefinitionFile, removeDefinitionFile, writeDefinitionFile } from "./definition-file.js";
import { ServiceCommandError, type ExtraService, type ServiceInspection, type ServiceManager } from "./service-manager.js";
import { SYSTEMD_SYSTEM_UNIT_DIR, systemdUserUnitDir } from "./service-paths.js";
import { createToolRunner, describeCommand, resolveToolBinary, type ToolRunner } from "./run-tool.js";
import { parseSystemdUnit, renderSystemdUnit } from "./systemd-unit.js";
import { loadEnvironmentFiles, renderEnvironmentFile, splitSecretEnvironment, writeFileAtomic } from "./service-secrets.js";
import fsp from "node:fs/promises";

/** Options of `createSystemdManager`. */
export interface SystemdManagerOptions {
  /** Unit name, e.g. `clawdbot-gateway.service`. */
  unit: string;
  env?: Env;
  /** Default `os.homedir()`. */
  homedir?: string;
  /** Runs `systemctl`. Default: `resolveToolBinary("systemctl")` via execFile. */
  run?: ToolRunner;
  /** System unit dir scanned by `--deep`. Default `/etc/systemd/system`. */
  systemUnitDir?: string;
}

/** Properties read by `inspect` (`systemctl --user show -p …`). */
export const SYSTEMD_SHOW_PROPERTIES = ["ActiveState", "SubState", "MainPID", "ExecMainStatus", "UnitFileState", "LoadState"];

const UNIT_FILE_RE = /^clawdbot-gateway(?:-[A-Za-z0-9_-]+)?\.service$/;

function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

function unavailableHints(unitPath: string): string[] {
  return [
    "systemd user services need a user session: check `systemctl --user status`.",
    "On servers/WSL2 enable lingering: `sudo loginctl enable-linger $USER`, then log in again.",
    `The unit file is at ${unitPath}; once systemd works, register it with \`clawdbot gateway install --force\`.`,
  ];
}

/** A systemd user-unit manager. */
export function createSystemdManager(o: SystemdManagerOptions): ServiceManager {
  const env = o.env ?? process.env;
  const homedir = o.homedir ?? os.homedir();
  const bin = resolveToolBinary("systemctl", env);
  const run = o.run ?? createToolRunner(bin);
  const unitDir = systemdUserUnitDir(env, homedir);
  const unitPath = path.join(unitDir, o.unit);

  const systemctl = async (args: string[], allowFailure = false): Promise<string> => {
    const full = ["--user", ...args];
    const r = await run(full);
    if (r.code !== 0 && !allowFailure) {
      const why = (r.stderr || r.stdout).trim() || `exit code ${r.code}`;
      throw new ServiceCommandError(`${describeCommand("systemctl", full)} failed: ${why}`, unavailableHints(unitPath));
    }
    return r.stdout;
  };

  const requireInstalled = async (): Promise<void> => {
    if ((await readDefinitionFile(unitPath)) === null) {
      throw new ServiceCommandError(`${o.unit} is not installed (no ${unitPath})`, ["Install it first: clawdbot gateway install"]);
    }
  };

  return {
    kind: "systemd",
    label: o.unit,
    definitionPath: unitPath,
    loadedText: "enabled",
    notLoadedText: "disabled",
    kindText: "systemd user unit",
    render: renderSystemdUnit,
    parse: parseSystemdUnit,
    readDefinition: () => readDefinitionFile(unitPath),
    async writeDefinition(text, spec) {
      // Secrets first: the unit never names a file that does not hold them yet.
      const { secret } = splitSecretEnvironment(spec.environment);
      if (Object.keys(secret).length > 0) await writeFileAtomic(spec.secretsPath, renderEnvironmentFile(secret), 0o600);
      else await fsp.rm(spec.secretsPath, { force: true });
      await writeDefinitionFile(unitPath, text);
    },
    loadEnvironment: (cmd) => loadEnvironmentFiles(cmd.environment, cmd.environmentFiles ?? []),
    secretFiles: (cmd) => (cmd.environmentFiles ?? []).map((f) => f.replace(/^-/, "")),
    async removeDefinition() {
      const text = await readDefinitionFile(unitPath);
      // Our own secrets file goes with the unit (only files named after this unit).
      for (const f of text === null ? [] : (parseSystemdUnit(text).environmentFiles ?? [])) {
        const file = f.replace(/^-/, "");
        if (path.basename(file) === `${o.unit}.env`) await fsp.rm(file, { force: true });
      }
      return removeDefinitionFile(unitPath);
    },
    async activate() {
      await systemctl(["daemon-reload"]);
      await systemctl(["enable", "--now", o.unit]);
    },
    async deactivate() {
      await systemctl(["disable", "--now", o.unit], true);
    },
    async reloadDefinition() {
      await systemctl(["daemon-reload"]);
    },
    async start() {
      await requireInstalled();
      await systemctl(["start", o.unit]);
    },
    async stop() {
      await requireInstalled();
      await systemctl(["stop", o.unit]);
    },
    async restart() {
      await requireInstalled();
      await systemctl(["restart", o.unit]);
    },
    async inspect(): Promise<ServiceInspection> {
      const args = ["--user", "show", o.unit, "-p", SYSTEMD_SHOW_PROPERTIES.join(",")];
      const r = await run(args);
      if (r.code !== 0) {
        return { loaded: false, runtime: { status: "unknown", detail: (r.stderr || r.stdout).trim() || `systemctl exit code ${r.code}` } };
      }
      const p = parseShow(r.stdout);
      const pid = Number(p.MainPID);
      const exit = Number(p.ExecMainStatus);
      const active = p.ActiveState;
      return {
        loaded: p.UnitFileState === "enabled" || p.UnitFileState === "enabled-runtime" || (p.UnitFileState === undefined && active === "active"),
        runtime: {
          status: active === "active" || active === "activating" || active === "reloading" ? "running" : active === undefined ? "unknown" : "stopped",
          state: active,
          subState: p.SubState,
          pid: Number.isInteger(pid) && pid > 0 ? pid : undefined,
          lastExitStatus: p.ExecMainStatus !== undefined && p.ExecMainStatus !== "" && Number.isFinite(exit) ? exit : undefined,
          missingUnit: p.LoadState === "not-found" ? true : undefined,
        },
      };
    },
    async scanExtraServices(): Promise<ExtraService[]> {
      const found: ExtraService[] = [];
      const dirs: [string, ExtraService["scope"]][] = [
        [unitDir, "user"],
        [o.systemUnitDir ?? SYSTEMD_SYSTEM_UNIT_DIR, "system"],
      ];
      for (const [dir, scope] of dirs) {
        for (const file of await listDefinitionFiles(dir, UNIT_FILE_RE)) {
          if (scope === "user" && file === unitPath) continue;
          const text = (await readDefinitionFile(file).catch(() => null)) ?? "";
          const clawdbot = parseSystemdUnit(text).environment.CLAWDBOT_SERVICE_MARKER === "clawdbot";
          found.push({ label: path.basename(file), detail: `${file}${clawdbot ? " (clawdbot profile service)" : ""}`, scope, clawdbot });
        }
      }
      return found;
    },
  };
}
