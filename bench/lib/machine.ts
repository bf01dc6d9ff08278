/**
 * What the numbers were measured on. Printed at the top of every bench output and
 * stored in its JSON, so a figure is never quoted without its machine.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

export interface MachineInfo {
  /** Online CPUs (`nproc` equivalent). */
  cpus: number;
  /** `/proc/cpuinfo` model name (or os.cpus() model off Linux). */
  cpuModel: string;
  node: string;
  platform: string;
  kernel: string;
  memGiB: number;
  /** 1/5/15-minute load average when the bench started (others may share the machine). */
  loadAvg: number[];
}

function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1]) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown";
}

/** Reads the machine description. */
export function machineInfo(): MachineInfo {
  return {
    cpus: typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length,
    cpuModel: cpuModel(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** One-line header for bench output. */
export function machineHeader(m: MachineInfo = machineInfo()): string {
  return (
    `machine: ${m.cpus} CPU(s) · ${m.cpuModel} · node ${m.node} · ${m.platform} · kernel ${m.kernel} · ` +
    `${m.memGiB} GiB · loadavg ${m.loadAvg.join(" ")}`
  );
}
