/**
 * Persist before acknowledging, end to end: new devices connect in a steady stream to a real
 * gateway process (loopback + shared token ⇒ silent pairing, `hello-ok.auth.deviceToken`), the
 * gateway is SIGKILLed at a random moment and restarted on the same state dir, and EVERY device
 * token that reached a client in a `hello-ok` must still authenticate (a real handshake with
 * that token alone), not merely be found in a file.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { TestClient, buildConnectParams, type ConnectOptions, type Frame } from "../helpers/client.js";
import { createDevice, type TestDevice } from "../helpers/device.js";
import { mulberry32 } from "../helpers/seeded-random.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = join(ROOT, "test", "fixtures", "gateway-child.ts");
const ROUNDS = 6;
/** Handshakes in flight at once (below the pre-auth budget of one address). */
const STREAMS = 24;
const CLIENT = { id: "test", mode: "cli", version: "1.0.0", platform: "linux" };

interface Acked {
  device: TestDevice;
  token: string;
}

async function startChild(dir: string): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const exited = once(child, "exit");
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([once(lines, "line"), exited.then(() => null)]);
  if (first === null) throw new Error(`gateway child exited before listening: ${stderr}`);
  const { port } = JSON.parse(String((first as [string])[0])) as { port: number };
  return { child, url: `ws://127.0.0.1:${port}`, exited };
}

/** One handshake; fails at once (instead of at a frame timeout) when the gateway dies under it. */
async function handshake(url: string, o: ConnectOptions): Promise<Frame> {
  const client = await TestClient.open(url);
  const died = client.closed.then(({ code }) => Promise.reject(new Error(`closed ${code}`)));
  try {
    const nonce = await Promise.race([client.challenge(), died]);
    return await Promise.race([client.request("connect", buildConnectParams(nonce, o)), died]);
  } finally {
    died.catch(() => undefined);
    client.terminate();
  }
}

/** New devices connect back to back on `STREAMS` lanes until `stop()`; returns the tokens acknowledged. */
function streamNewDevices(url: string): { acked: Acked[]; stop: () => Promise<void>; firstAck: Promise<void> } {
  const acked: Acked[] = [];
  let running = true;
  let signalFirst!: () => void;
  const firstAck = new Promise<void>((r) => (signalFirst = r));
  const lane = async (): Promise<void> => {
    while (running) {
      const device = createDevice();
      try {
        const res = await handshake(url, { device, client: CLIENT });
        const token = res.ok ? (res.payload?.auth?.deviceToken as string | undefined) : undefined;
        if (token !== undefined) {
          acked.push({ device, token });
          signalFirst();
        }
      } catch {
        // The gateway died mid-handshake: nothing was acknowledged to this device.
      }
    }
  };
  const lanes = Array.from({ length: STREAMS }, lane);
  return {
    acked,
    firstAck,
    stop: async () => {
      running = false;
      await Promise.all(lanes);
    },
  };
}

/** Connects once with each device's token alone; returns the ones refused. */
async function refusedTokens(url: string, list: Acked[]): Promise<Acked[]> {
  const refused: Acked[] = [];
  for (let i = 0; i < list.length; i += STREAMS) {
    await Promise.all(
      list.slice(i, i + STREAMS).map(async (a) => {
        const res = await handshake(url, { device: a.device, token: a.token, client: CLIENT });
        if (!res.ok) refused.push(a);
      }),
    );
  }
  return refused;
}

test("every device token acknowledged in hello-ok survives kill -9 of the gateway", { timeout: 90_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-kill9-gw-"));
  let live: ChildProcess | undefined;
  t.after(async () => {
    live?.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  });
  const seed = Number(process.env.KILL9_SEED ?? Date.now() % 2 ** 31);
  const rand = mulberry32(seed);
  let unchecked: Acked[] = [];
  let total = 0;
  const lost: Acked[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const gw = await startChild(dir);
    live = gw.child;
    lost.push(...(await refusedTokens(gw.url, unchecked)));
    if (round === ROUNDS) {
      gw.child.kill("SIGKILL");
      await gw.exited;
      break;
    }
    const stream = streamNewDevices(gw.url);
    await stream.firstAck;
    await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 400)));
    gw.child.kill("SIGKILL");
    await gw.exited;
    await stream.stop();
    unchecked = stream.acked;
    total += unchecked.length;
  }
  assert.ok(total >= ROUNDS, `too few handshakes to mean anything (${total})`);
  assert.equal(lost.length, 0, `seed ${seed}: ${lost.length} of ${total} acknowledged device tokens refused after kill -9`);
  t.diagnostic(`seed ${seed}: ${total} device tokens acknowledged over ${ROUNDS} kills, none lost`);
});
