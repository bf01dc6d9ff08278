/**
 * `clawdbot setup`: a starter config for a local gateway, the agent workspace and the
 * sessions dir (§9.4, runbook "Dev profile"):
 *
 *   { gateway: { mode: "local", bind: "loopback", auth: { mode: "token", token: <32 random bytes, hex> } },
 *     agents: { defaults: { workspace } } }
 *
 * An existing config is left alone unless --force (the old file is kept as `.bak`).
 * The token is never printed; the output says where it is.
 */
import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";

import { cliCommand } from "../cli-prefix.js";
import { CLI_VERSION } from "../version.js";
import { activeProfile, expandHome, resolveConfigPath, resolveStateDir, type Env } from "../../shared/config/paths.js";

interface SetupFlags {
  workspace?: string;
  force?: boolean;
  json?: boolean;
}

/** What `setup` did. */
export interface SetupResult {
  configPath: string;
  /** True when the config was (re)written; false when an existing one was kept. */
  wroteConfig: boolean;
  workspace: string;
  sessionsDir: string;
}

/** Default workspace: `~/clawd`, or `~/clawd-<profile>` under a named profile (`~/clawd-dev` for --dev). */
export function defaultWorkspace(env: Env, homedir: string = os.homedir()): string {
  const p = activeProfile(env);
  return path.join(homedir, p === undefined ? "clawd" : `clawd-${p}`);
}

async function exists(file: string): Promise<boolean> {
  return fsp.stat(file).then(
    () => true,
    () => false,
  );
}

/** Runs setup against `env`. Throws with an operator message on failure. */
export async function runSetup(flags: SetupFlags, env: Env = process.env, homedir: string = os.homedir()): Promise<SetupResult> {
  const configPath = resolveConfigPath(env, homedir);
  const stateDir = resolveStateDir(env, homedir);
  const workspace = flags.workspace !== undefined ? expandHome(flags.workspace, homedir) : defaultWorkspace(env, homedir);
  const sessionsDir = path.join(stateDir, "agents", "main", "sessions");
  const present = await exists(configPath);
  if (!present || flags.force === true) {
    const config = {
      gateway: { mode: "local", bind: "loopback", auth: { mode: "token", token: randomBytes(32).toString("hex") } },
      agents: { defaults: { workspace } },
    };
    const { writeConfigFile } = await import("../../shared/config/write-config.js");
    await writeConfigFile(configPath, config, { version: CLI_VERSION, env });
  }
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  await fsp.mkdir(sessionsDir, { recursive: true, mode: 0o700 });
  await fsp.mkdir(workspace, { recursive: true });
  return { configPath, wroteConfig: !present || flags.force === true, workspace, sessionsDir };
}

/** Registers `clawdbot setup`. */
export function registerSetupCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("setup")
    .description("write a starter config (local gateway, loopback, generated token) and create the workspace")
    .option("--workspace <dir>", "agent workspace (default: ~/clawd, or ~/clawd-<profile>)")
    .option("--force", "replace an existing config (the old one is kept as clawdbot.json.bak)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  clawdbot setup\n  clawdbot --dev setup --workspace ~/clawd-dev")
    .action(async (flags: SetupFlags) => {
      let r: SetupResult;
      try {
        r = await runSetup(flags);
      } catch (err) {
        process.stderr.write(`setup failed: ${(err as Error).message}\n`);
        setExit(1);
        return;
      }
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify({ ok: true, ...r }, null, 2)}\n`);
        return;
      }
      const lines = r.wroteConfig
        ? [
            `Wrote ${r.configPath} (gateway.mode=local, bind=loopback, auth=token).`,
            `The gateway token was generated and stored in that file at gateway.auth.token (not shown here).`,
          ]
        : [`Config ${r.configPath} already exists; left unchanged (pass --force to replace it).`];
      lines.push(`Workspace: ${r.workspace}`, `Sessions: ${r.sessionsDir}`, `Next: ${cliCommand()} gateway   (or install it as a service: ${cliCommand()} gateway install)`);
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
