/**
 * `clawdbot doctor`: audits the service definition, config, port, token and state-dir
 * permissions. `--fix` / `--repair` / `--yes` apply fixes; on a TTY (without
 * --non-interactive / --json) a stale service definition is offered for rewrite.
 * Exit 1 when any check fails.
 */
import os from "node:os";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";

import { cliCommand } from "../cli-prefix.js";
import { CLI_VERSION } from "../version.js";
import type { DoctorCheck } from "../doctor/doctor-types.js";
import { resolveConfigPath, resolveStateDir } from "../../shared/config/paths.js";

interface DoctorFlags {
  json?: boolean;
  fix?: boolean;
  repair?: boolean;
  yes?: boolean;
  nonInteractive?: boolean;
}

async function askYesNo(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

const TAG: Record<DoctorCheck["status"], string> = { ok: "[ok]  ", warn: "[warn]", fail: "[FAIL]" };

/** Registers `clawdbot doctor`. */
export function registerDoctorCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("doctor")
    .description("audit the service definition, config, port, token strength and state-dir permissions")
    .option("--json", "print {ok, checks:[{id, status, message, fix?}]}")
    .option("--fix", "apply fixes (rewrite a stale service definition, tighten permissions)")
    .option("--repair", "same as --fix")
    .option("--yes", "answer yes to every fix (same as --fix)")
    .option("--non-interactive", "never prompt")
    .addHelpText("after", "\nExample:\n  clawdbot doctor\n  clawdbot doctor --fix\n  clawdbot --profile rescue doctor --json --non-interactive")
    .action(async (flags: DoctorFlags) => {
      // Imported when the command runs: registering it must not load every check (start-up path).
      const [{ runDoctor }, { loadConfig }] = await Promise.all([import("../doctor/run-doctor.js"), import("../../shared/config/load-config.js")]);
      const env = process.env;
      const homedir = os.homedir();
      const fix = flags.fix === true || flags.repair === true || flags.yes === true;
      const interactive = !fix && flags.json !== true && flags.nonInteractive !== true && process.stdin.isTTY === true;
      const snap = await loadConfig({ path: resolveConfigPath(env, homedir), env, homedir });
      const report = await runDoctor({
        env,
        homedir,
        stateDir: resolveStateDir(env, homedir),
        snap,
        fix,
        confirm: interactive ? askYesNo : async () => false,
        cli: cliCommand(env),
        version: CLI_VERSION,
      });
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const lines: string[] = [];
        for (const c of report.checks) {
          lines.push(`${TAG[c.status]} ${c.id}: ${c.message}`);
          if (c.fix !== undefined && c.status !== "ok") lines.push(`       fix: ${c.fix}`);
        }
        const warns = report.checks.filter((c) => c.status === "warn").length;
        const fails = report.checks.filter((c) => c.status === "fail").length;
        const fixable = !fix && report.checks.some((c) => c.status !== "ok" && (c.id === "service" || c.id === "permissions"));
        lines.push(`doctor: ${fails} failure(s), ${warns} warning(s)${fixable ? ` — \`${cliCommand(env)} doctor --fix\` applies the automatic fixes` : ""}`);
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      setExit(report.ok ? 0 : 1);
    });
}
