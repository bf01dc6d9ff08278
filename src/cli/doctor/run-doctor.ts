/** Runs every doctor check in order; `ok` is false when any check failed. */
import type { DoctorCheck, DoctorContext } from "./doctor-types.js";
import { checkConfig } from "./check-config.js";
import { checkPermissions } from "./check-permissions.js";
import { checkPort } from "./check-port.js";
import { checkService } from "./check-service.js";
import { checkToken } from "./check-token.js";

/** The doctor report (`--json`). */
export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

const CHECKS: [DoctorCheck["id"], (ctx: DoctorContext) => Promise<DoctorCheck>][] = [
  ["config", checkConfig],
  ["service", checkService],
  ["port", checkPort],
  ["token", checkToken],
  ["permissions", checkPermissions],
];

/** Runs the checks sequentially (a fix may affect a later check); a crashing check is a fail. */
export async function runDoctor(ctx: DoctorContext): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  for (const [id, check] of CHECKS) {
    try {
      checks.push(await check(ctx));
    } catch (err) {
      checks.push({ id, status: "fail", message: `check crashed: ${(err as Error).message}` });
    }
  }
  return { ok: checks.every((c) => c.status !== "fail"), checks };
}
