/**
 * Canvas live reload: file watcher (dotfile/node_modules filtering, new directories), the
 * `/__clawdbot/ws` socket (reload delivery, ping/pong, close handshake, protocol errors).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import WebSocket from "ws";
import type { CanvasServer, CanvasServerOptions } from "../../src/workers/canvas/canvas-server.js";
import { startCanvasServer } from "../../src/workers/canvas/canvas-server.js";
import type { WatchEvent } from "../../src/workers/canvas/live-reload.js";
import { watchTree } from "../../src/workers/canvas/tree-watcher.js";
import { tempDir } from "../helpers/temp-dir.js";

const WS_PATH = "/__clawdbot/ws";

async function start(t: TestContext, opts: Partial<CanvasServerOptions> & { root: string }): Promise<CanvasServer> {
  const server = await startCanvasServer({ host: "127.0.0.1", port: 0, ...opts });
  t.after(() => server.close());
  return server;
}

async function connect(t: TestContext, port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${WS_PATH}`);
  t.after(() => ws.terminate());
  await once(ws, "open");
  return ws;
}

/** Resolves with the next text message, or rejects after `ms`. */
function nextMessage(ws: WebSocket, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
    ws.once("message", (data: Buffer, isBinary: boolean) => {
      clearTimeout(timer);
      assert.equal(isBinary, false, "reload must be a text frame");
      resolve(data.toString());
    });
  });
}

/** Collects watcher events and lets a test await one matching a predicate. */
function watchEvents(): { onWatchEvent: (e: WatchEvent) => void; seen: WatchEvent[]; waitFor: (p: (e: WatchEvent) => boolean, ms?: number) => Promise<void> } {
  const seen: WatchEvent[] = [];
  const waiters: Array<{ p: (e: WatchEvent) => boolean; resolve: () => void }> = [];
  return {
    seen,
    onWatchEvent(e) {
      seen.push(e);
      for (const w of [...waiters]) {
        if (w.p(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
    waitFor(p, ms = 2000) {
      if (seen.some(p)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("watch event not seen")), ms);
        waiters.push({ p, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

test("a file write sends `reload` to every connected socket within 1 s", async (t) => {
  const root = tempDir(t);
  const server = await start(t, { root });
  const a = await connect(t, server.port);
  const b = await connect(t, server.port);
  const gotA = nextMessage(a, 1000);
  const gotB = nextMessage(b, 1000);
  const writtenAt = Date.now();
  fs.writeFileSync(path.join(root, "index.html"), "<body>changed</body>");
  assert.deepEqual(await Promise.all([gotA, gotB]), ["reload", "reload"]);
  assert.ok(Date.now() - writtenAt < 1000);
});

test("files in subdirectories, including ones created after start, trigger reloads", async (t) => {
  const root = tempDir(t);
  fs.mkdirSync(path.join(root, "existing"));
  const events = watchEvents();
  const server = await start(t, { root, onWatchEvent: events.onWatchEvent });
  const ws = await connect(t, server.port);

  let got = nextMessage(ws, 1000);
  fs.writeFileSync(path.join(root, "existing", "a.js"), "1");
  assert.equal(await got, "reload");

  fs.mkdirSync(path.join(root, "later"));
  await events.waitFor((e) => e.path === "later");
  // The watch on `later/` attaches asynchronously after its creation event: rewrite until the
  // watcher reports the nested path (each attempt is bounded; the loop ends on the event).
  const nested = path.join(root, "later", "deep.css");
  const seenNested = events.waitFor((e) => e.path === "later/deep.css", 3000);
  let attached = false;
  void seenNested.then(() => (attached = true));
  while (!attached) {
    fs.writeFileSync(nested, String(Date.now()));
    await Promise.race([seenNested, new Promise((r) => setTimeout(r, 50))]);
  }
  await seenNested;
  got = nextMessage(ws, 1000);
  fs.writeFileSync(nested, "final");
  assert.equal(await got, "reload");
});

test("the tree watcher drops dotfiles and node_modules and never descends into them", async (t) => {
  const root = tempDir(t);
  fs.mkdirSync(path.join(root, "sub"));
  fs.mkdirSync(path.join(root, "node_modules"));
  fs.mkdirSync(path.join(root, ".git"));
  const changed: string[] = [];
  const ignored: string[] = [];
  let sawVisible: () => void = () => {};
  const visible = new Promise<void>((r) => (sawVisible = r));
  const watcher = watchTree({
    root,
    onChange: (p) => {
      changed.push(p);
      if (p === "visible.txt") sawVisible();
    },
    onIgnored: (p) => ignored.push(p),
    onError: (err) => assert.fail(String(err)),
  });
  t.after(() => watcher.close());
  await watcher.ready;

  fs.writeFileSync(path.join(root, ".env"), "x");
  fs.writeFileSync(path.join(root, "sub", ".swap.swp"), "x");
  fs.writeFileSync(path.join(root, "node_modules", "dep.js"), "x");
  fs.writeFileSync(path.join(root, ".git", "HEAD"), "x");
  fs.mkdirSync(path.join(root, ".cache"));
  // inotify delivers events in order, so everything above is classified before this one.
  fs.writeFileSync(path.join(root, "visible.txt"), "x");
  await visible;
  assert.deepEqual([...new Set(changed)], ["visible.txt"]);
  assert.ok(ignored.includes(".env") && ignored.includes("sub/.swap.swp") && ignored.includes(".cache"), String(ignored));
  // Ignored directories are not watched at all: nothing from inside them was even seen.
  assert.ok(!ignored.some((p) => p.startsWith("node_modules/") || p.startsWith(".git/")), String(ignored));
});

test("dotfile changes do not reload connected pages", async (t) => {
  const root = tempDir(t);
  const events = watchEvents();
  const debounceMs = 30;
  const server = await start(t, { root, onWatchEvent: events.onWatchEvent, reloadDebounceMs: debounceMs });
  const ws = await connect(t, server.port);
  const messages: string[] = [];
  ws.on("message", (d: Buffer) => messages.push(d.toString()));

  fs.writeFileSync(path.join(root, ".hidden.html"), "x");
  await events.waitFor((e) => e.path === ".hidden.html" && e.ignored);
  // The change has been seen and classified; a reload, if scheduled, fires one debounce later.
  // Absence has no event, so observe for several debounce periods.
  await new Promise((r) => setTimeout(r, debounceMs * 8));
  assert.deepEqual(messages, []);

  const got = nextMessage(ws, 1000);
  fs.writeFileSync(path.join(root, "shown.html"), "x");
  assert.equal(await got, "reload");
});

test("the live-reload socket answers pings, echoes the client's close code and sends 1001 on shutdown", async (t) => {
  const root = tempDir(t);
  const server = await start(t, { root });

  const pinger = await connect(t, server.port);
  const pong = once(pinger, "pong");
  pinger.ping(Buffer.from("are you there"));
  const [payload] = (await pong) as [Buffer];
  assert.equal(payload.toString(), "are you there");

  const closer = await connect(t, server.port);
  closer.close(4001, "bye");
  const [code] = (await once(closer, "close")) as [number];
  assert.equal(code, 4001);

  const survivor = await connect(t, server.port);
  const closed = once(survivor, "close");
  await server.close();
  const [shutdownCode] = (await closed) as [number];
  assert.equal(shutdownCode, 1001);
});

/** Opens a raw TCP connection and completes the WebSocket handshake by hand. */
async function rawWebSocket(t: TestContext, port: number): Promise<net.Socket> {
  const sock = net.connect(port, "127.0.0.1");
  t.after(() => sock.destroy());
  sock.write(
    `GET ${WS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  let head = "";
  while (!head.includes("\r\n\r\n")) {
    const [chunk] = (await once(sock, "data")) as [Buffer];
    head += chunk.toString("latin1");
  }
  assert.match(head, /^HTTP\/1\.1 101 /);
  // RFC 6455 §1.3 worked example.
  assert.match(head, /Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/);
  return sock;
}

test("an unmasked client frame is a protocol error (close 1002)", async (t) => {
  const server = await start(t, { root: tempDir(t) });
  const sock = await rawWebSocket(t, server.port);
  const chunks: Buffer[] = [];
  sock.on("data", (c: Buffer) => chunks.push(c));
  sock.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // FIN text "hi", MASK bit clear
  await once(sock, "end");
  const frame = Buffer.concat(chunks);
  assert.equal(frame[0], 0x88, "server sent a close frame");
  assert.equal(frame.readUInt16BE(2), 1002);
});

test("upgrade requests elsewhere, or with liveReload off, are refused", async (t) => {
  const root = tempDir(t);
  const on = await start(t, { root });
  const off = await start(t, { root, liveReload: false });
  for (const url of [`ws://127.0.0.1:${on.port}/__clawdbot__/canvas/`, `ws://127.0.0.1:${off.port}${WS_PATH}`]) {
    const ws = new WebSocket(url);
    ws.on("error", () => {}); // terminate() before open reports an error; the status is the point
    const [, res] = (await once(ws, "unexpected-response")) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 404, url);
    ws.terminate();
  }
});

test("a client message over 64 KiB closes the live-reload socket with 1009", async (t) => {
  const server = await start(t, { root: tempDir(t) });
  const ws = await connect(t, server.port);
  const closed = once(ws, "close");
  ws.send(Buffer.alloc(70 * 1024, 1));
  const [code] = (await closed) as [number];
  assert.equal(code, 1009);
});
