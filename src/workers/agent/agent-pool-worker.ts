/**
 * Entry of an agent pool thread (piscina task module). At load the thread claims a ring pair
 * from the shared slot table and announces itself; each task is one session turn whose
 * events stream to the host over the events ring. Many turns run at once per thread
 * (`concurrentTasksPerWorker`): they are I/O-bound, waiting on model streams. Aborts arrive
 * on the control ring, keyed by runId.
 */
import { threadId, workerData } from "node:worker_threads";
import { createRingCodec } from "../../shared/ring/ring-codec.js";
import { MainRingWriter } from "../../shared/ring/main-ring-writer.js";
import { RingReader } from "../../shared/ring/ring-reader.js";
import { lowerThreadPriority } from "../../shared/thread-priority.js";
import { claimSlot } from "./pool/ring-slot-table.js";
import type { AgentPoolTask, AgentPoolWorkerData, PoolControlRecord, PoolEventRecord } from "./pool/pool-protocol.js";
import { runSessionTurn } from "./session-turn.js";
import type { SessionTurnResult } from "./session-turn.js";

const data = workerData as AgentPoolWorkerData;
if (data.nice !== undefined) lowerThreadPriority(data.nice);
const slot = claimSlot(data.table, threadId);
if (slot < 0) throw new Error("agent pool: no free ring slot for this thread");
const codec = createRingCodec();
// Never blocks the thread's event loop: a full ring queues (bounded) and drains on wake-up.
const events = new MainRingWriter(data.table.slots[slot]!.events, { maxQueuedRecords: 65536, maxQueuedBytes: 64 << 20, coalesce: true });
const send = (rec: PoolEventRecord): void => events.write(codec.encode(rec));
const running = new Map<string, AbortController>();

const control = new RingReader(
  data.table.slots[slot]!.control,
  (payload) => {
    const rec = codec.decode(payload) as PoolControlRecord;
    if (rec.t === "abort") running.get(rec.runId)?.abort();
    else if (rec.t === "gc") {
      (globalThis as { gc?: () => void }).gc?.();
      send({ t: "gc", id: rec.id });
    }
  },
  { keepAlive: false },
);
void control.start();
send({ t: "hello", threadId, slot });

/** piscina task: one turn. Resolves after every event of the run is in the ring. */
export default async function runAgentTask(task: AgentPoolTask): Promise<SessionTurnResult> {
  const ac = new AbortController();
  running.set(task.runId, ac);
  send({ t: "run", runId: task.runId, slot });
  try {
    return await runSessionTurn({ ...task, signal: ac.signal, onEvent: (ev) => send({ t: "ev", ev }) });
  } finally {
    running.delete(task.runId);
    await events.whenDrained();
  }
}
