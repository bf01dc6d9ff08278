/**
 * CPU accounting from procfs (Linux only).
 *
 * `/proc/<pid>/stat` fields 14/15 (utime/stime) count every thread of the process in
 * clock ticks (USER_HZ, 100 on every mainstream kernel, so 10 ms resolution: fine over
 * multi-second windows). `/proc/stat`'s first line gives the machine-wide busy time, from
 * which the CPU used by processes other than the ones we measure ("foreign" load — other
 * jobs sharing this box) can be estimated per window.
 */
import { readdirSync, readFileSync } from "node:fs";

/** USER_HZ; procfs reports ticks in this unit regardless of the kernel's HZ. */
const CLK_TCK = 100;

/** utime+stime of a process in seconds, or undefined when it cannot be read (gone, not Linux). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "latin1");
    // comm (field 2) may contain spaces and parentheses: fields restart after the last ')'.
    const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // rest[0] is field 3 (state), so utime (14) is rest[11] and stime (15) rest[12].
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Machine-wide busy and total CPU seconds (all CPUs summed), from `/proc/stat`. */
export function systemCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "latin1").split("\n", 1)[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest* are already in user/nice).
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: busy / CLK_TCK, total: (busy + idle + iowait) / CLK_TCK };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread name of a process (`/proc/<pid>/task/<tid>/stat`, summed by comm,
 * with " (nice N)" for threads not at nice 0): e.g. the main thread, worker threads started
 * at a lower priority, libuv's pool and V8's helpers (both "node"). Threads that exited are
 * missing, so compare two readings only over a window in which the thread set is stable.
 */
export function threadCpuByName(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, "latin1");
      const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
      const nice = Number(rest[16]);
      const name = (tid === String(pid) ? "main" : s.slice(s.indexOf("(") + 1, s.lastIndexOf(")"))) + (nice !== 0 ? ` (nice ${nice})` : "");
      out.set(name, (out.get(name) ?? 0) + (Number(rest[11]) + Number(rest[12])) / CLK_TCK);
    } catch {
      // The thread exited between readdir and read.
    }
  }
  return out;
}
