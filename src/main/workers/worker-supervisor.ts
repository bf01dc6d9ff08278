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
import type { Worker } from "node:worker_threads";
import { GatewayError } from "../../shared/errors.js";
import { Link } from "../../shared/ring/link.js";
import type { RequestName, RequestOptions, RequestParams, RequestResult, WorkerProtocol } from "../../shared/ring/link-types.js";
import { closeRing } from "../../shared/ring/ring-layout.js";
import { createWorkerLinkData, readHeartbeat } from "../../shared/ring/worker-link.js";
import type { WorkerLinkData } from "../../shared/ring/worker-link.js";
import { RestartPolicy } from "./restart-policy.js";
import { spawnWorkerThread } from "./spawn-worker.js";
import type { SupervisorLogger, WorkerRunState, WorkerState, WorkerSupervisorOptions } from "./supervisor-types.js";

const silent: SupervisorLogger = { info() {}, warn() {}, error() {} };

interface Incarnation<P extends WorkerProtocol> {
  generation: number;
  worker: Worker;
  link: Link<P["main"], P["worker"]>;
  data: WorkerLinkData;
  exited: Promise<number>;
  readyAt: number | null;
  failure: string | null;
}

export class WorkerSupervisor<P extends WorkerProtocol> {
  readonly name: string;
  private readonly opts: WorkerSupervisorOptions<P>;
  private readonly policy: RestartPolicy;
  private readonly log: SupervisorLogger;
  private current: Incarnation<P> | null = null;
  private state: WorkerState;
  private listeners = new Set<(s: WorkerState) => void>();
  private backoffTimer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;

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
      this.policy.reset();
      this.state.restarts = 0;
      this.spawn();
    }
    return this.whenRunning();
  }

  /** Resolves when the worker is running; rejects with UNAVAILABLE when it becomes broken or stopped. */
  whenRunning(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (st: WorkerState): boolean => {
        if (st.state === "running") resolve();
        else if (st.state === "broken" || st.state === "stopped") reject(this.unavailable(`is ${st.state}`));
        else return false;
        return true;
      };
      if (check(this.getState())) return;
      const off = this.onStateChange((st) => {
        if (check(st)) off();
      });
    });
  }

  /** Sends a request to the worker. Fails fast with GW_ERR_WORKER_UNAVAILABLE while no worker can take it. */
  request<K extends RequestName<P["worker"]>>(method: K, params: RequestParams<P["worker"], K>, options?: RequestOptions): Promise<RequestResult<P["worker"], K>> {
    const cur = this.current;
    if (!cur || (this.state.state !== "running" && this.state.state !== "starting")) {
      return Promise.reject(this.unavailable(`is ${this.state.state}`));
    }
    return cur.link.request(method, params, options);
  }

  /** Sends a one-way event to the worker. Throws GW_ERR_WORKER_UNAVAILABLE while no worker can take it. */
  emit(event: P["worker"]["events"]): void {
    const cur = this.current;
    if (!cur || (this.state.state !== "running" && this.state.state !== "starting")) throw this.unavailable(`is ${this.state.state}`);
    cur.link.emit(event);
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
    const data = createWorkerLinkData(this.name, generation, this.opts.ringBytes ?? 1 << 20, this.heartbeatIntervalMs, this.opts.workerData);
    const link = new Link<P["main"], P["worker"]>({
      name: `worker "${this.name}"`,
      inbound: data.toMain,
      outbound: data.toWorker,
      handlers: this.opts.handlers,
      writeMode: "overflow",
      overflow: this.opts.overflow,
      requestTimeoutMs: this.opts.requestTimeoutMs,
      onControl: (frame) => {
        if (frame.type === "ready" && frame.generation === generation) this.onReady(generation);
      },
      onError: (err) => this.onLinkError(generation, err),
    });
    void link.start().catch((err: unknown) => this.onLinkError(generation, err));
    const worker = spawnWorkerThread(this.opts.entry, { ...this.opts.workerOptions, workerData: data });
    const exited = new Promise<number>((resolve) => worker.once("exit", resolve));
    const inc: Incarnation<P> = { generation, worker, link, data, exited, readyAt: null, failure: null };
    worker.on("error", (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      inc.failure = `${e.name}: ${e.message}`;
      this.log.error({ worker: this.name, generation, err: inc.failure }, "worker threw");
    });
    worker.on("messageerror", () => {});
    worker.once("exit", (code: number) => this.onExit(inc, code));
    this.current = inc;
    this.state.generation = generation;
    this.state.nextRestartAt = null;
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

  /** One timer per incarnation: start timeout while starting, heartbeat while running. */
  private startWatch(inc: Incarnation<P>): void {
    this.stopWatch();
    const startedAt = Date.now();
    const startTimeoutMs = this.opts.startTimeoutMs ?? 30_000;
    const hbTimeoutMs = this.opts.heartbeatTimeoutMs ?? 10_000;
    let lastBeat = readHeartbeat(inc.data.toMain);
    let lastBeatAt = startedAt;
    const tick = Math.min(this.heartbeatIntervalMs, hbTimeoutMs / 2);
    this.watchTimer = setInterval(() => {
      if (this.current !== inc) return;
      const now = Date.now();
      const beat = readHeartbeat(inc.data.toMain);
      if (beat !== lastBeat) {
        lastBeat = beat;
        lastBeatAt = now;
      }
      if (this.state.state === "starting" && now - startedAt > startTimeoutMs) {
        this.kill(inc, `did not report ready within ${startTimeoutMs} ms`);
      } else if (this.state.state === "running" && now - lastBeatAt > hbTimeoutMs) {
        this.kill(inc, `heartbeat stalled for ${now - lastBeatAt} ms (event loop blocked or thread stuck)`);
      }
    }, tick);
    this.watchTimer.unref();
  }

  private stopWatch(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = null;
  }

  private kill(inc: Incarnation<P>, reason: string): void {
    if (inc.failure === null) inc.failure = reason;
    this.log.warn({ worker: this.name, generation: inc.generation, reason }, "terminating worker");
    void inc.worker.terminate();
  }

  private onLinkError(generation: number, err: unknown): void {
    const cur = this.current;
    const e = err instanceof GatewayError ? err : new GatewayError("GW_ERR_PROTO_HANDLER_FAILED", String(err));
    this.log.error({ worker: this.name, generation, code: e.code, err: e.message }, "worker link error");
    this.state.lastError = e.message;
    if (cur && cur.generation === generation && e.code === "GW_ERR_RING_CORRUPT") this.kill(cur, e.message);
  }

  private onExit(inc: Incarnation<P>, code: number): void {
    if (this.current !== inc) return;
    this.stopWatch();
    const stopping = this.state.state === "stopping";
    closeRing(inc.data.toWorker);
    closeRing(inc.data.toMain);
    inc.link.drainInbound();
    const why = stopping ? "was stopped" : `exited (code ${code}${inc.failure ? `: ${inc.failure}` : ""})`;
    inc.link.close(
      new GatewayError("GW_ERR_WORKER_UNAVAILABLE", `worker "${this.name}" ${why} before answering; retry`, {
        worker: this.name,
        generation: inc.generation,
        exitCode: code,
      }),
    );
    this.current = null;
    this.state.lastExitCode = code;
    if (stopping) {
      this.log.info({ worker: this.name, generation: inc.generation, code }, "worker stopped");
      this.setState("stopped");
      return;
    }
    this.state.lastError = inc.failure ?? `exited unexpectedly with code ${code}`;
    const now = Date.now();
    const decision = this.policy.onFailure(now, inc.readyAt === null ? 0 : now - inc.readyAt);
    if (decision.action === "break") {
      this.log.error({ worker: this.name, restarts: this.state.restarts, lastError: this.state.lastError }, "worker restart loop: breaker tripped, not restarting");
      this.setState("broken");
      return;
    }
    this.log.warn({ worker: this.name, code, delayMs: decision.delayMs, lastError: this.state.lastError }, "worker died; restarting after backoff");
    this.state.nextRestartAt = now + decision.delayMs;
    this.setState("backoff");
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      this.state.restarts++;
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
