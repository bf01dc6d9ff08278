/**
 * SIGUSR1 during start-up must never open the V8 inspector (Node's default action for
 * SIGUSR1), and after start-up it keeps its meaning (in-process restart when allowed).
 *
 * The child is the real executable entry through tsx. The entry reports (on request, through
 * CLAWDBOT_REPORT_SIGUSR1_GUARD) once its first statement armed the guard: signals go out
 * from then on, every few ms, through the whole module loading and start-up of the CLI,
 * until the gateway listens. An entry that loaded anything before arming it never reports
 * and the test fails. (Node's own bootstrap and tsx's hand-over, before any user code, are
 * out of reach on Node 20; see entry.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";

import { SERVICE_NODE_FLAGS } from "../../src/cli/service/service-spec.js";
import { CLI_ENTRY, localGatewayEnv } from "../helpers/cli.js";

const GUARD_ARMED = "clawdbot: SIGUSR1 guard armed";

/** Resolves true when something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

test("SIGUSR1 storm from the first line of user code until the gateway listens: no inspector; afterwards it restarts in-process", async (t) => {
  const env = await localGatewayEnv(t, { commands: { restart: true } });
  // A port of our own for the inspector, so a parallel test can never be mistaken for ours.
  const inspectPort = 19229 + Math.floor(Math.random() * 500);
  for (let round = 0; round < 2; round++) {
    const child = spawn(process.execPath, [`--inspect-port=127.0.0.1:${inspectPort}`, "--import", "tsx", CLI_ENTRY, "gateway", "run", "--port", "0"], {
      env: { ...env.env, CLAWDBOT_REPORT_SIGUSR1_GUARD: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    t.after(() => void child.kill("SIGKILL"));
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    const listeningLine = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line\n${stdout}\n${stderr}`)), 60_000);
      child.stdout.on("data", (d) => {
        stdout += String(d);
        const m = /Gateway listening on ws:\/\/[^:]+:(\d+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the entry never armed its SIGUSR1 guard\n${stderr}`)), 60_000);
      const onData = (): void => {
        if (!stderr.includes(GUARD_ARMED)) return;
        clearTimeout(timer);
        child.stderr.off("data", onData);
        resolve();
      };
      child.stderr.on("data", onData);
      onData();
    });
    // Signal continuously through the loading of everything else.
    const t0 = Date.now();
    let sent = 0;
    let started = false;
    void listeningLine.then(() => (started = true), () => (started = true));
    while (!started && child.exitCode === null) {
      child.kill("SIGUSR1");
      sent++;
      await new Promise((r) => setTimeout(r, 10));
    }
    const port = await listeningLine;
    t.diagnostic(`round ${round}: ${sent} signals over ${Date.now() - t0} ms of start-up`);
    assert.ok(sent >= 5, `only ${sent} signals went out during start-up`);
    assert.doesNotMatch(stderr, /Debugger listening/);
    assert.equal(await listening(inspectPort), false, "no inspector listens");
    assert.equal(child.exitCode, null, "still running");

    // After start-up SIGUSR1 keeps its meaning: an in-process restart on the same port.
    const before = stdout.split("Gateway listening").length;
    child.kill("SIGUSR1");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no restart\n${stdout}\n${stderr}`)), 20_000);
      const check = (): void => {
        if (stdout.split("Gateway listening").length > before) {
          clearTimeout(timer);
          child.stdout.off("data", check);
          resolve();
        }
      };
      child.stdout.on("data", check);
      check();
    });
    assert.match(stdout, new RegExp(`Gateway listening on ws://127\\.0\\.0\\.1:${port}[^]*Gateway listening on ws://127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(stderr, /Debugger listening/);
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    assert.equal(child.exitCode, 0);
  }
});

test("service units run node with flags that keep an inspector opened during Node's own bootstrap undiscoverable", async (t) => {
  // Node's bootstrap window cannot be closed on Node 20: stand in for a signal landing there
  // by signalling a process that has no SIGUSR1 handler at all, started with the services' flags.
  const inspectPort = 20229 + Math.floor(Math.random() * 500);
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, `--inspect-port=127.0.0.1:${inspectPort}`, "-e", 'process.stdout.write("ready\\n"); setInterval(() => {}, 1e9)'], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.after(() => void child.kill("SIGKILL"));
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  await new Promise<void>((r) => child.stdout.once("data", () => r()));
  child.kill("SIGUSR1");
  const deadline = Date.now() + 10_000;
  while (!/Debugger listening/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.match(stderr, /Debugger listening on ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}/, "the inspector opened (the case being guarded)");
  const body = await new Promise<string>((resolve) => {
    const req = http.get({ host: "127.0.0.1", port: inspectPort, path: "/json/list", timeout: 3000 }, (res) => {
      let text = "";
      res.on("data", (d) => (text += String(d)));
      res.on("end", () => resolve(text));
    });
    req.on("error", () => resolve(""));
    req.on("timeout", () => req.destroy());
  });
  const uuid = /\/([0-9a-f-]{36})/.exec(stderr)?.[1] ?? "none";
  assert.ok(!body.includes(uuid), `the socket id is not served over HTTP: ${body}`);
});
