/** Percentiles and the per-size result record of `bench/fanout.ts`. */
import type { TickSpan } from "./fleet-protocol.js";

/** The q-quantile (0..1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

/** p50/p99/max of a sample set. */
export interface Pcts {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

export function pcts(values: readonly number[]): Pcts {
  return { p50: quantile(values, 0.5), p99: quantile(values, 0.99), max: quantile(values, 1), n: values.length };
}

/**
 * Merges the per-process tick spans: for each broadcast tick seen by every one of `n`
 * nodes, the time from the tick's `ts` to its last receipt ("reached all") and the
 * first-to-last spread. Ticks not seen by all nodes inside the window are left out.
 */
export function tickReach(spans: readonly TickSpan[], n: number): { reachAllMs: number[]; spreadMs: number[]; partial: number } {
  const byTs = new Map<number, TickSpan>();
  for (const s of spans) {
    const t = byTs.get(s.ts);
    if (!t) byTs.set(s.ts, { ...s });
    else {
      t.first = Math.min(t.first, s.first);
      t.last = Math.max(t.last, s.last);
      t.count += s.count;
    }
  }
  const reachAllMs: number[] = [];
  const spreadMs: number[] = [];
  let partial = 0;
  for (const t of byTs.values()) {
    if (t.count < n) {
      partial++;
      continue;
    }
    reachAllMs.push(t.last - t.ts);
    spreadMs.push(t.last - t.first);
  }
  return { reachAllMs, spreadMs, partial };
}

/** Everything measured for one fleet size. */
export interface SizeResult {
  nodes: number;
  procs: number;
  /** What was measured: the gateway, an --url, or the bare uWS floor. */
  target: string;
  skipped?: string;
  connect?: {
    seconds: number;
    perSecond: number;
    failures: number;
    /** Gateway CPU per handshake (first connect: includes silent device pairing). */
    gatewayCpuMsPerHandshake?: number;
  };
  rss?: { beforeKiB: number; connectedKiB: number; afterIdleKiB: number; perConnKiB: number };
  idle?: { seconds: number; gatewayCpuPct?: number; otherCores?: number; tickIntervalMs: number };
  broadcast?: { perNodeMs: Pcts; reachAllMs: Pcts; spreadMs: Pcts; ticks: number; partialTicks: number };
  invoke?: { count: number; concurrency: number; errors: number; lastError?: string; perSecond: number; rttMs: Pcts; gatewayCpuUsPerInvoke?: number };
  storm?: {
    mode: string;
    sinceSignalS: number;
    sinceListeningS: number;
    /** Restart signal → new listener up. */
    restartS: number;
    /** N / (last reconnect − first reconnect). */
    perSecond: number;
    reconnects: number;
    refused: number;
    gatewayCpuMsPerHandshake?: number;
  };
  error?: string;
}
