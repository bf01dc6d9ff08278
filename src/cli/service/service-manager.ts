/**
 * The supervisor abstraction behind `gateway install|uninstall|start|stop|restart|status`
 * and `doctor`: one implementation per platform (systemd user units on Linux, launchd
 * LaunchAgents on macOS), chosen by `process.platform` and injectable for tests.
 */
import type { Env } from "../../shared/config/paths.js";
import type { ServiceManagerKind } from "./service-env.js";
import type { ServiceSpec } from "./service-spec.js";
import type { ParsedServiceCommand } from "./systemd-unit.js";

/** What the supervisor says about the running process. */
export interface ServiceRuntime {
  /** `running` when the supervisor reports an active process. */
  status: "running" | "stopped" | "unknown";
  /** systemd ActiveState / launchd `state`. */
  state?: string;
  /** systemd SubState. */
  subState?: string;
  pid?: number;
  /** Exit status of the last run (systemd ExecMainStatus / launchd `last exit code`). */
  lastExitStatus?: number;
  /** Why the state is unknown (e.g. no systemd user session). */
  detail?: string;
  /** True when the supervisor does not know the unit/label. */
  missingUnit?: boolean;
}

/** Supervisor view of the installed service. */
export interface ServiceInspection {
  /** systemd: unit enabled; launchd: job loaded in the gui domain. */
  loaded: boolean;
  runtime: ServiceRuntime;
}

/** Another gateway-like service definition on this machine. */
export interface ExtraService {
  label: string;
  /** Path of the definition, plus "(clawdbot profile service)" when it carries our marker. */
  detail: string;
  scope: "user" | "system";
  /** True when the definition carries CLAWDBOT_SERVICE_MARKER=clawdbot. */
  clawdbot: boolean;
}

/** A failed supervisor command. */
export class ServiceCommandError extends Error {
  constructor(
    message: string,
    readonly hints: string[] = [],
  ) {
    super(message);
    this.name = "ServiceCommandError";
  }
}

/** One supervisor. Every method throws `ServiceCommandError` when the supervisor refuses. */
export interface ServiceManager {
  readonly kind: ServiceManagerKind;
  /** Unit name or launchd label. */
  readonly label: string;
  /** Where the definition file lives. */
  readonly definitionPath: string;
  /** Human words for `loaded` true / false ("enabled"/"disabled", "loaded"/"not loaded"). */
  readonly loadedText: string;
  readonly notLoadedText: string;
  /** Human name of the definition kind ("systemd user unit", "LaunchAgent"). */
  readonly kindText: string;
  render(spec: ServiceSpec): string;
  parse(text: string): ParsedServiceCommand;
  /** Installed definition text, or null when none. */
  readDefinition(): Promise<string | null>;
  /**
   * Writes `text` (= `render(spec)`) and, for systemd, the 0600 secrets file of `spec`
   * (removed when the spec has no secrets). launchd plists are written 0600.
   */
  writeDefinition(text: string, spec: ServiceSpec): Promise<void>;
  /** The installed environment: the definition's variables plus its environment files. */
  loadEnvironment(cmd: ParsedServiceCommand): Promise<Record<string, string>>;
  /** Files of the installed definition that may hold secrets (must be 0600). */
  secretFiles(cmd: ParsedServiceCommand): string[];
  /** Removes the definition; false when there was none. */
  removeDefinition(): Promise<boolean>;
  /** After a first write: register and start (systemd: daemon-reload + enable --now; launchd: bootstrap). */
  activate(): Promise<void>;
  /** Before removal: stop and unregister (systemd: disable --now; launchd: bootout). Missing is fine. */
  deactivate(): Promise<void>;
  /** After a rewrite: make the supervisor re-read the definition without starting anything new. */
  reloadDefinition(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  inspect(): Promise<ServiceInspection>;
  /** Other clawdbot-gateway definitions (other profiles, system scope). */
  scanExtraServices(): Promise<ExtraService[]>;
}

/** Which manager to use for a platform; throws for unsupported platforms. */
export function managerKindFor(platform: string): ServiceManagerKind {
  if (platform === "linux") return "systemd";
  if (platform === "darwin") return "launchd";
  throw new ServiceCommandError(`service management is not supported on ${platform}`, [
    "Supported: Linux (systemd user units, also WSL2) and macOS (LaunchAgents).",
    "Run `clawdbot gateway` under your own supervisor instead.",
  ]);
}

/** The platform to manage: `CLAWDBOT_SERVICE_PLATFORM` (tests, diagnostics) else `process.platform`. */
export function servicePlatform(env: Env = process.env): string {
  const p = env.CLAWDBOT_SERVICE_PLATFORM?.trim();
  return p !== undefined && p !== "" ? p : process.platform;
}
