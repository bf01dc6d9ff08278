/** Picks the service manager for this machine (or the one a test asks for). */
import os from "node:os";

import type { Env } from "../../shared/config/paths.js";
import { createLaunchdManager } from "./launchd-manager.js";
import { profileOf } from "./service-env.js";
import { managerKindFor, servicePlatform, type ServiceManager } from "./service-manager.js";
import { serviceLabel } from "./service-spec.js";
import { createSystemdManager } from "./systemd-manager.js";

/** Options of `createServiceManager`. */
export interface CreateServiceManagerOptions {
  env?: Env;
  /** Default `os.homedir()`. */
  homedir?: string;
  /** Default `servicePlatform(env)` (`CLAWDBOT_SERVICE_PLATFORM` or `process.platform`). */
  platform?: string;
}

/** The manager for the active profile's gateway service. Throws on unsupported platforms. */
export function createServiceManager(o: CreateServiceManagerOptions = {}): ServiceManager {
  const env = o.env ?? process.env;
  const homedir = o.homedir ?? os.homedir();
  const kind = managerKindFor(o.platform ?? servicePlatform(env));
  const label = serviceLabel(kind, profileOf(env));
  return kind === "systemd" ? createSystemdManager({ unit: label, env, homedir }) : createLaunchdManager({ label, env, homedir });
}
