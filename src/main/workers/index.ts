/**
 * Supervision of long-lived worker threads (see docs/ring.md).
 */
export { WorkerSupervisor } from "./worker-supervisor.js";
export type { SupervisorLogger, WorkerRunState, WorkerState, WorkerSupervisorOptions } from "./supervisor-types.js";
export { RestartPolicy } from "./restart-policy.js";
export type { RestartDecision, RestartPolicyOptions } from "./restart-policy.js";
export { spawnWorkerThread, toModuleUrl } from "./spawn-worker.js";
