/** Shared shapes of `clawdbot doctor`. */
import type { ConfigSnapshot } from "../../shared/config/load-config.js";
import type { Env } from "../../shared/config/paths.js";

/** One audit result. `fix` says what to run or change; `fixed` is set when --fix applied it. */
export interface DoctorCheck {
  id: "config" | "service" | "port" | "token" | "permissions";
  status: "ok" | "warn" | "fail";
  message: string;
  fix?: string;
  fixed?: boolean;
}

/** What every check gets. */
export interface DoctorContext {
  env: Env;
  homedir: string;
  stateDir: string;
  /** The config as loaded once at the start. */
  snap: ConfigSnapshot;
  /** `--fix` / `--repair` / `--yes`: apply fixes without asking. */
  fix: boolean;
  /** Ask before a rewrite (a TTY, no --non-interactive, no --json). */
  confirm: (question: string) => Promise<boolean>;
  /** `clawdbot` with the active profile's global flag, for fix hints. */
  cli: string;
  version: string;
}
