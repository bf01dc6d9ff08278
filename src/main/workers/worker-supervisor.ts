/**
 * Spawns one long-lived worker thread, links it with a pair of rings, watches its
 * heartbeat, and replaces it when it dies.
 *
 *   stopped --start()--> starting --ready frame--> running
 *                          |  ^                      |
 *          exit / no ready |  | backoff timer        | exit / heartbeat stall
 *                          v  |                      v
 *                        backoff <-------------------+
 *                          |
 *                          +-- too many restarts in the window --> broken
 *   stop(): any --> stopping --exit--> stopped
 *
 * On every exit: both rings are marked closed (waking anyone asleep on them), what the
 * worker already published is drained (answers it sent before dying still resolve),
 * the remaining in-flight requests fail with GW_ERR_WORKER_UNAVAILABLE naming the
 * worker (retryable), and the replacement gets fresh rings with generation + 1: a
 * half-written record of the dead worker can never be read by anyone.
 *
 * Exceptions inside the worker stay there: 'error' is always handled (it only records
 * lastError; 'exit' follows and drives recovery).
 */
import { GatewayError } from "../../shared/errors.js";
import type { Link } from "../../shared/ring/link.js";
import type { RequestName, RequestOptions, RequestParams, RequestResult, WorkerProtocol } from "../../shared/ring/link-types.js";
import { readHeartbeat } from "../../shared/ring/worker-link.js";
import { RestartPolicy } from "./restart-policy.js";
import { gatewayMetrics } from "../metrics/gateway-metrics.js";
import { retireIncarnation, spawnIncarnation } from "./worker-incarnation.js";
import type { Incarnation } from "./worker-incarnation.js";
import { startWatchdog } from "./worker-watchdog.js";
import type { SupervisorLogger, WorkerRunState, WorkerState, WorkerSupervisorOptions } from "./supervisor-types.js";

const silent: SupervisorLogger = { info() {}, warn() {}, error() {} };

/** Supervises one named worker: spawn, link, watch, restart with backoff, break restart loops. */
export class WorkerSupervisor<P extends WorkerProtocol> {
  readonly name: string;
  private readonly opts: WorkerSupervisorOptions<P>;
  private readonly policy: RestartPolicy;
  private readonly log: SupervisorLogger;
  private current: Incarnation<P> | null = null;
  private state: WorkerState;
  private listeners = new Set<(s: WorkerState) => void>();
  private backoffTimer: NodeJS.Timeout | null = null;
  private stopWatchdog: (() => void) | null = null;

  constructor(options: WorkerSupervisorOptions<P>) {
    this.name = options.name;
    this.opts = options;
    this.policy = new RestartPolicy(options.restart);
    this.log = options.logger ?? silent;
    this.state = { name: options.name, state: "stopped", restarts: 0, lastError: null, lastExitCode: null, generation: 0, since: Date.now(), nextRestartAt: null, inFlight: 0 };
  }

  /** Starts the worker (again, after 'stopped' or 'broken'). Resolves once it reports ready; rejects if it ends up broken or stopped first. */
  start(): Promise<void> {
    const s = this.state.state;
    if (s === "stopped" || s === "broken") {
      gatewayMetrics.rings.add(this);
      this.policy.reset();
      this.state.restarts = 0;
      this.spawn();
    }
    return this.whenRunning();
  }

  /** Resolves when the worker is running; rejects with UNAVAILABLE when it becomes broken or stopped. */
  whenRunning(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (st: WorkerState): void => {
        if (st.state === "running") resolve();
        else if (st.state === "broken" || st.state === "stopped") reject(this.unavailable(`is ${st.state}`));
        else return;
        off();
      };
      const off = this.onStateChange(check);
      check(this.getState());
    });
  }

  /** Sends a request to the worker. Fails fast with GW_ERR_WORKER_UNAVAILABLE while no worker can take it. */
  request<K extends RequestName<P["worker"]>>(method: K, params: RequestParams<P["worker"], K>, options?: RequestOptions): Promise<RequestResult<P["worker"], K>> {
    try {
      return this.liveLink().request(method, params, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends a one-way event to the worker. Throws GW_ERR_WORKER_UNAVAILABLE while no worker can take it. */
  emit(event: P["worker"]["events"]): void {
    this.liveLink().emit(event);
  }

  /** The current worker's link, if it can take work ('starting' or 'running'). */
  private liveLink(): Link<P["main"], P["worker"]> {
    const s = this.state.state;
    if (!this.current || (s !== "running" && s !== "starting")) throw this.unavailable(`is ${s}`);
    return this.current.link;
  }

  /** Overflow figures of the current worker's inbound ring (metrics), or null. */
  ringStats(): ReturnType<Link<P["main"], P["worker"]>["overflowStats"]> {
    return this.current?.link.overflowStats() ?? null;
  }

  /** Snapshot for health/status. */
  getState(): WorkerState {
    return { ...this.state, inFlight: this.current?.link.inFlight ?? 0 };
  }

  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: (state: WorkerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Asks the worker to stop through the link, waits up to `timeoutMs` for it to exit,
   * then terminates it. In-flight requests fail with UNAVAILABLE. Never restarts.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    gatewayMetrics.rings.delete(this);
    this.clearBackoff();
    const cur = this.current;
    if (!cur) {
      if (this.state.state !== "stopped") this.setState("stopped");
      return;
    }
    if (this.state.state !== "stopping") this.setState("stopping");
    try {
      cur.link.sendControl({ type: "stop" });
    } catch {
      void cur.worker.terminate();
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    const outcome = await Promise.race([cur.exited, timedOut]);
    clearTimeout(timer);
    if (outcome === "timeout") {
      this.log.warn({ worker: this.name, timeoutMs }, "worker did not stop in time; terminating");
      await cur.worker.terminate();
      await cur.exited;
    }
  }

  private spawn(): void {
    const generation = this.state.generation + 1;
    this.state.generation = generation;
    this.state.nextRestartAt = null;
    let inc: Incarnation<P>;
    try {
      inc = spawnIncarnation(
        this.opts,
        generation,
        this.heartbeatIntervalMs,
        {
          onReady: () => this.onReady(generation),
          onLinkError: (err) => this.onLinkError(generation, err),
          onExit: (code) => this.onExit(inc, code),
        },
        (message) => this.log.error({ worker: this.name, generation, err: message }, "worker threw"),
      );
    } catch (err) {
      // e.g. a bad entry URL: a failed start, under the same backoff and breaker.
      this.state.lastError = `spawn failed: ${err instanceof Error ? err.message : String(err)}`;
      this.afterFailure(0);
      return;
    }
    this.current = inc;
    this.setState("starting");
    this.startWatch(inc);
  }

  private onReady(generation: number): void {
    const cur = this.current;
    if (!cur || cur.generation !== generation || this.state.state !== "starting") return;
    cur.readyAt = Date.now();
    this.log.info({ worker: this.name, generation }, "worker ready");
    this.setState("running");
  }

  /** One watchdog per incarnation: start deadline while starting, heartbeat while running. */
  private startWatch(inc: Incarnation<P>): void {
    this.stopWatch();
    const hbTimeoutMs = this.opts.heartbeatTimeoutMs ?? 10_000;
    this.stopWatchdog = startWatchdog({
      readBeat: () => readHeartbeat(inc.data.toMain),
      phase: () => (this.current === inc ? this.state.state : "gone"),
      intervalMs: Math.min(this.heartbeatIntervalMs, hbTimeoutMs / 2),
      startTimeoutMs: this.opts.startTimeoutMs ?? 30_000,
      heartbeatTimeoutMs: hbTimeoutMs,
      onStall: (reason) => this.kill(inc, reason),
    });
  }

  private stopWatch(): void {
    this.stopWatchdog?.();
    this.stopWatchdog = null;
  }

  /**
   * Terminates the running worker as if it had crashed (operators' "kick", tests):
   * in-flight requests fail with UNAVAILABLE and the usual backoff restart follows.
   * No-op when no worker runs.
   */
  terminate(reason: string): void {
    if (this.current) this.kill(this.current, reason);
  }

  private kill(inc: Incarnation<P>, reason: string): void {
    if (inc.killed) return;
    inc.killed = true;
    if (inc.failure === null) inc.failure = reason;
    this.log.warn({ worker: this.name, generation: inc.generation, reason }, "terminating worker");
    void inc.worker.terminate();
  }

  private onLinkError(generation: number, err: unknown): void {
    const cur = this.current;
    const e = err instanceof GatewayError ? err : new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", String(err), undefined, { cause: err });
    this.log.error({ worker: this.name, generation, code: e.code, err: e.message }, "worker link error");
    this.state.lastError = e.message;
    if (cur && cur.generation === generation && e.code === "GW_ERR_RING_CORRUPT") this.kill(cur, e.message);
  }

  private onExit(inc: Incarnation<P>, code: number): void {
    if (this.current !== inc) return;
    this.stopWatch();
    const stopping = this.state.state === "stopping";
    const why = stopping ? "was stopped" : `exited (code ${code}${inc.failure ? `: ${inc.failure}` : ""})`;
    const { drained, discarded } = retireIncarnation(
      inc,
      new GatewayError("GW_ERR_WORKER_UNAVAILABLE", `worker "${this.name}" ${why} before answering; retry`, {
        worker: this.name,
        generation: inc.generation,
        exitCode: code,
      }),
    );
    this.current = null;
    this.state.lastExitCode = code;
    const fields = { worker: this.name, generation: inc.generation, code, drained, discarded, failure: inc.failure };
    if (stopping) {
      this.log.info(fields, "worker stopped");
      this.setState("stopped");
      return;
    }
    this.log.warn(fields, "worker exited unexpectedly");
    this.state.lastError = inc.failure ?? `exited unexpectedly with code ${code}`;
    this.afterFailure(inc.readyAt === null ? 0 : Date.now() - inc.readyAt);
  }

  /** Backoff and restart, or trip the breaker. `ranForMs`: how long the dead worker had been running. */
  private afterFailure(ranForMs: number): void {
    const now = Date.now();
    const decision = this.policy.onFailure(now, ranForMs);
    if (decision.action === "break") {
      this.log.error({ worker: this.name, restarts: this.state.restarts, lastError: this.state.lastError }, "worker restart loop: breaker tripped, not restarting");
      this.setState("broken");
      return;
    }
    this.log.warn({ worker: this.name, delayMs: decision.delayMs, lastError: this.state.lastError }, "worker died; restarting after backoff");
    this.state.nextRestartAt = now + decision.delayMs;
    this.setState("backoff");
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.state.restarts++;
      gatewayMetrics.workerRestarted(this.name);
      this.spawn();
    }, decision.delayMs);
  }

  private clearBackoff(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
  }

  private get heartbeatIntervalMs(): number {
    return this.opts.heartbeatIntervalMs ?? 1000;
  }

  private unavailable(what: string): GatewayError {
    return new GatewayError("GW_ERR_WORKER_UNAVAILABLE", `worker "${this.name}" ${what}; retry later`, { worker: this.name, state: this.state.state, generation: this.state.generation });
  }

  private setState(state: WorkerRunState): void {
    this.state.state = state;
    this.state.since = Date.now();
    const snap = this.getState();
    for (const l of [...this.listeners]) {
      try {
        l(snap);
      } catch (err) {
        this.log.error({ worker: this.name, err: String(err) }, "state listener threw");
      }
    }
  }
}
