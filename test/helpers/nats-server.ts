/**
 * A private `nats-server` (the system's binary, JetStream on) for cluster tests: its own
 * free port on 127.0.0.1 and its own JetStream store dir, so a test can SIGKILL it and
 * start it again on the same port and store. Killed in `t.after`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AfterHook } from "./temp-dir.js";

const BINARY = process.env.NATS_SERVER_BIN ?? "nats-server";

/** A running (or stopped, restartable) broker. */
export interface TestNatsServer {
  readonly port: number;
  readonly url: string;
  readonly storeDir: string;
  /** SIGKILL (default) or SIGTERM; resolves when the process exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and store dir; resolves when it accepts clients. */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function launch(port: number, storeDir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(BINARY, ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", storeDir, "--http_port", "0"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`nats-server did not become ready in 10 s:\n${log}`));
    }, 10_000);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (log.length < 20_000) log += chunk;
      if (log.includes("Server is ready")) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited (${code}) before ready:\n${log}`));
    });
  });
}

/** Starts a broker for this test; stopped and its store removed in `t.after`. */
export async function startNatsServer(t: AfterHook): Promise<TestNatsServer> {
  const storeDir = mkdtempSync(join(tmpdir(), "clawgate-nats-"));
  const port = await freePort();
  let child: ChildProcess | null = await launch(port, storeDir);
  const stop = async (signal: NodeJS.Signals = "SIGKILL"): Promise<void> => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill(signal);
    });
  };
  t.after(async () => {
    await stop();
    rmSync(storeDir, { recursive: true, force: true });
  });
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    stop,
    async restart() {
      await stop();
      child = await launch(port, storeDir);
    },
  };
}
