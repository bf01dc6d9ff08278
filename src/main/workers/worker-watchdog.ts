/**
 * Watchdog for one worker incarnation: a start deadline while it boots, then a
 * heartbeat deadline while it runs. One unref'd interval; the heartbeat is a counter
 * the worker bumps in shared memory, so reading it costs the main thread one atomic
 * load per tick and needs no message round trip (a worker whose event loop is stuck
 * could not answer a ping anyway, which is exactly what this detects).
 */

/** What the watchdog needs to know about the worker. */
export interface WatchdogOptions {
  /** Current heartbeat counter. */
  readBeat: () => number;
  /** Current phase; only 'starting' and 'running' are watched. */
  phase: () => string;
  /** Sampling interval in ms. */
  intervalMs: number;
  /** Deadline for 'starting' in ms. */
  startTimeoutMs: number;
  /** Longest heartbeat silence tolerated in 'running', in ms. */
  heartbeatTimeoutMs: number;
  /** Called (possibly repeatedly) with the reason once a deadline passes. */
  onStall: (reason: string) => void;
}

/** Starts watching; returns the function that stops the watchdog. */
export function startWatchdog(o: WatchdogOptions): () => void {
  const startedAt = Date.now();
  let lastBeat = o.readBeat();
  let lastBeatAt = startedAt;
  const timer = setInterval(() => {
    const now = Date.now();
    const beat = o.readBeat();
    if (beat !== lastBeat) {
      lastBeat = beat;
      lastBeatAt = now;
    }
    const phase = o.phase();
    if (phase === "starting" && now - startedAt > o.startTimeoutMs) {
      o.onStall(`did not report ready within ${o.startTimeoutMs} ms`);
    } else if (phase === "running" && now - lastBeatAt > o.heartbeatTimeoutMs) {
      o.onStall(`heartbeat stalled for ${now - lastBeatAt} ms (event loop blocked or thread stuck)`);
    }
  }, o.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
