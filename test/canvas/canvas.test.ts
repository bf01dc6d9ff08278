/**
 * Canvas host HTTP surface: routing, methods, content types, directory index, starter page,
 * HTML injection, path safety (every traversal variant, sent as raw bytes so no client
 * normalises them) and bounded-memory streaming of a 100 MB file.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import type { CanvasServer, CanvasServerOptions } from "../../src/workers/canvas/canvas-server.js";
import { startCanvasServer } from "../../src/workers/canvas/canvas-server.js";
import { toSafeSegments } from "../../src/workers/canvas/path-safety.js";
import { STARTER_INDEX_HTML } from "../../src/workers/canvas/starter-page.js";
import { tempDir } from "../helpers/temp-dir.js";

const CANVAS = "/__clawdbot__/canvas/";
const SECRET = "TOP-SECRET-OUTSIDE-ROOT";
/** Present in every injected script. */
const INJECTED = "clawdbotSendUserAction";

async function start(t: TestContext, opts: Partial<CanvasServerOptions> & { root: string }): Promise<CanvasServer> {
  const server = await startCanvasServer({ host: "127.0.0.1", port: 0, ...opts });
  t.after(() => server.close());
  return server;
}

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Sends `method target HTTP/1.1` byte for byte (latin1) and reads until the server closes:
 * `target` reaches the server exactly as written, with no client-side normalisation.
 */
async function raw(port: number, target: string, method = "GET"): Promise<RawResponse> {
  const sock = net.connect(port, "127.0.0.1");
  sock.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, "latin1");
  const chunks: Buffer[] = [];
  sock.on("data", (c: Buffer) => chunks.push(c));
  await new Promise<void>((resolve, reject) => {
    sock.on("close", () => resolve());
    sock.on("error", reject);
  });
  const all = Buffer.concat(chunks);
  const split = all.indexOf("\r\n\r\n");
  assert.ok(split > 0, `no HTTP response head for ${JSON.stringify(target)}`);
  const [statusLine = "", ...lines] = all.subarray(0, split).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: all.subarray(split + 4) };
}

/** base/secret.txt outside the root; base/root is the canvas root. */
function traversalFixture(t: TestContext): { base: string; root: string } {
  const base = tempDir(t);
  const root = path.join(base, "root");
  fs.mkdirSync(path.join(root, "sub"), { recursive: true });
  fs.writeFileSync(path.join(base, "secret.txt"), SECRET);
  fs.writeFileSync(path.join(root, "index.html"), "<html><body>root index</body></html>");
  fs.writeFileSync(path.join(root, "sub", "page.txt"), "inside sub");
  fs.symlinkSync(path.join(base, "secret.txt"), path.join(root, "escape-file.txt"));
  fs.symlinkSync(base, path.join(root, "escape-dir"));
  fs.symlinkSync(path.join(root, "sub", "page.txt"), path.join(root, "inside-link.txt"));
  fs.writeFileSync(path.join(root, "..dots.txt"), "dots are fine");
  return { base, root };
}

test("path traversal variants never serve a file outside the root", async (t) => {
  const { base, root } = traversalFixture(t);
  const server = await start(t, { root, liveReload: false });
  const encodedAbs = encodeURIComponent(path.join(base, "secret.txt"));

  // Control: the fixture is served, so the 404s below are not vacuous.
  const ok = await raw(server.port, `${CANVAS}sub/page.txt`);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.toString(), "inside sub");
  const dots = await raw(server.port, `${CANVAS}..dots.txt`);
  assert.equal(dots.status, 200, "a name that merely starts with '..' is not a traversal");
  assert.equal(dots.body.toString(), "dots are fine");

  const variants = [
    `${CANVAS}../secret.txt`,
    `${CANVAS}sub/../../secret.txt`,
    `${CANVAS}./../secret.txt`,
    `${CANVAS}%2e%2e/secret.txt`,
    `${CANVAS}%2E%2E/secret.txt`,
    `${CANVAS}.%2e/secret.txt`,
    `${CANVAS}%2e%2e%2fsecret.txt`,
    `${CANVAS}sub%2f..%2f..%2fsecret.txt`,
    `${CANVAS}%252e%252e/secret.txt`,
    `${CANVAS}%252e%252e%252fsecret.txt`,
    `${CANVAS}sub/%252e%252e/%252e%252e/secret.txt`,
    `${CANVAS}..\\secret.txt`,
    `${CANVAS}sub\\..\\..\\secret.txt`,
    `${CANVAS}..%5csecret.txt`,
    `${CANVAS}..%255csecret.txt`,
    `${CANVAS}index.html%00`,
    `${CANVAS}index.html%00.txt`,
    `${CANVAS}index.html%2500`,
    `${CANVAS}%c0%ae%c0%ae/secret.txt`,
    `${CANVAS}${encodedAbs}`,
    `${CANVAS}/${path.join(base, "secret.txt").slice(1)}`,
    `${CANVAS}%2f${path.join(base, "secret.txt").slice(1)}`,
    `${CANVAS}escape-file.txt`,
    `${CANVAS}escape-dir/secret.txt`,
  ];
  for (const target of variants) {
    const res = await raw(server.port, target);
    assert.equal(res.status, 404, `expected 404 for ${JSON.stringify(target)}, got ${res.status}`);
    assert.equal(res.body.toString(), "not found", `body for ${JSON.stringify(target)}`);
  }

  // A raw NUL never reaches the handler: Node's HTTP parser rejects the request line.
  const nul = await raw(server.port, `${CANVAS}index.html\u0000`);
  assert.equal(nul.status, 400);
  assert.ok(!nul.body.toString().includes(SECRET));
});

test("the lexical gate refuses traversal on its own (before any containment check)", () => {
  for (const rawPath of [
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "%2e%2e/x",
    ".%2E/x",
    "a%2f..%2f..%2fx",
    "%252e%252e/x",
    "%252E%252E%252Fx",
    "a%255cb",
    "..\\x",
    "a%5cb",
    "x%00",
    "x\u0000",
    "x%2500",
    "x%0a",
    "%c0%ae%c0%ae/x",
    "%e0%80%ae",
    "%zz",
    "/etc/passwd",
    "%2fetc%2fpasswd",
  ]) {
    assert.equal(toSafeSegments(rawPath), null, JSON.stringify(rawPath));
  }
  assert.deepEqual(toSafeSegments(""), []);
  assert.deepEqual(toSafeSegments("a/./b//c.html"), ["a", "b", "c.html"]);
  assert.deepEqual(toSafeSegments("my%20page.html"), ["my page.html"]);
  assert.deepEqual(toSafeSegments("100%25.txt"), ["100%.txt"]);
  assert.deepEqual(toSafeSegments("..foo/bar..baz"), ["..foo", "bar..baz"]);
});

test("symlinks that stay inside the root are served", async (t) => {
  const { root } = traversalFixture(t);
  const server = await start(t, { root, liveReload: false });
  const res = await raw(server.port, `${CANVAS}inside-link.txt`);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "inside sub");
});

test("content types, Cache-Control: no-store and a 404 for unknown files", async (t) => {
  const root = tempDir(t);
  const expected: Record<string, string> = {
    "a.html": "text/html; charset=utf-8",
    "a.js": "text/javascript; charset=utf-8",
    "a.mjs": "text/javascript; charset=utf-8",
    "a.css": "text/css; charset=utf-8",
    "a.json": "application/json; charset=utf-8",
    "a.js.map": "application/json; charset=utf-8",
    "a.txt": "text/plain; charset=utf-8",
    "a.png": "image/png",
    "a.jpg": "image/jpeg",
    "a.JPEG": "image/jpeg",
    "a.gif": "image/gif",
    "a.svg": "image/svg+xml",
    "a.webp": "image/webp",
    "a.ico": "image/x-icon",
    "a.wasm": "application/wasm",
    "a.woff2": "font/woff2",
    "a.unknownext": "application/octet-stream",
    noext: "application/octet-stream",
  };
  for (const name of Object.keys(expected)) fs.writeFileSync(path.join(root, name), `content of ${name}`);
  const server = await start(t, { root, liveReload: false });
  for (const [name, type] of Object.entries(expected)) {
    const res = await raw(server.port, CANVAS + name);
    assert.equal(res.status, 200, name);
    assert.equal(res.headers["content-type"], type, name);
    assert.equal(res.headers["cache-control"], "no-store", name);
    assert.equal(res.body.toString(), `content of ${name}`, name);
  }
  const missing = await raw(server.port, `${CANVAS}nope.txt`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers["cache-control"], "no-store");
  const elsewhere = await raw(server.port, "/not-canvas");
  assert.equal(elsewhere.status, 404);
});

test("HEAD sends headers and Content-Length without a body; other methods get 405", async (t) => {
  const root = tempDir(t);
  fs.writeFileSync(path.join(root, "data.bin"), Buffer.alloc(12345, 7));
  fs.writeFileSync(path.join(root, "page.html"), "<html><body>x</body></html>");
  const server = await start(t, { root });

  const head = await raw(server.port, `${CANVAS}data.bin`, "HEAD");
  assert.equal(head.status, 200);
  assert.equal(head.headers["content-length"], "12345");
  assert.equal(head.headers["content-type"], "application/octet-stream");
  assert.equal(head.body.length, 0);

  // For injected HTML, HEAD announces the length GET actually sends.
  const getHtml = await raw(server.port, `${CANVAS}page.html`);
  const headHtml = await raw(server.port, `${CANVAS}page.html`, "HEAD");
  assert.equal(headHtml.body.length, 0);
  assert.equal(headHtml.headers["content-length"], String(getHtml.body.length));
  assert.equal(getHtml.headers["content-length"], String(getHtml.body.length));

  for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
    for (const target of [`${CANVAS}data.bin`, "/__clawdbot__/a2ui/index.html"]) {
      const res = await raw(server.port, target, method);
      assert.equal(res.status, 405, `${method} ${target}`);
      assert.equal(res.headers.allow, "GET, HEAD", `${method} ${target}`);
    }
  }
});

test("directories serve their index.html; the bare prefix redirects; a missing index says what to create", async (t) => {
  const root = tempDir(t);
  fs.writeFileSync(path.join(root, "index.html"), "<p>top</p>");
  fs.mkdirSync(path.join(root, "docs"));
  fs.writeFileSync(path.join(root, "docs", "index.html"), "<p>docs index</p>");
  fs.mkdirSync(path.join(root, "empty"));
  const server = await start(t, { root, liveReload: false });

  for (const target of [CANVAS, `${CANVAS}?x=1`]) {
    const res = await raw(server.port, target);
    assert.equal(res.status, 200, target);
    assert.equal(res.body.toString(), "<p>top</p>");
  }
  for (const target of [`${CANVAS}docs/`, `${CANVAS}docs`]) {
    const res = await raw(server.port, target);
    assert.equal(res.status, 200, target);
    assert.equal(res.body.toString(), "<p>docs index</p>", target);
    assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
  }
  const redirect = await raw(server.port, "/__clawdbot__/canvas?v=2");
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, "/__clawdbot__/canvas/?v=2");

  const empty = await raw(server.port, `${CANVAS}empty/`);
  assert.equal(empty.status, 404);
  assert.match(empty.body.toString(), /Missing file\. Create .*index\.html/);
});

test("an empty or missing root gets a starter index.html; a non-empty root is left alone", async (t) => {
  const base = tempDir(t);
  const emptyRoot = path.join(base, "empty");
  fs.mkdirSync(emptyRoot);
  const missingRoot = path.join(base, "not", "yet", "there");
  const busyRoot = path.join(base, "busy");
  fs.mkdirSync(busyRoot);
  fs.writeFileSync(path.join(busyRoot, "notes.txt"), "mine");

  for (const root of [emptyRoot, missingRoot]) {
    const server = await start(t, { root });
    assert.equal(fs.readFileSync(path.join(root, "index.html"), "utf8"), STARTER_INDEX_HTML);
    const res = await raw(server.port, CANVAS);
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), /Clawdbot Canvas/);
  }
  await start(t, { root: busyRoot });
  assert.deepEqual(fs.readdirSync(busyRoot), ["notes.txt"]);
});

test("HTML gets the live-reload script before </body> (or appended); liveReload:false injects nothing", async (t) => {
  const root = tempDir(t);
  fs.writeFileSync(path.join(root, "with-body.html"), "<html><BODY>hello</BODY></html>");
  fs.writeFileSync(path.join(root, "fragment.html"), "<p>fragment</p>");
  fs.writeFileSync(path.join(root, "big.html"), `<html><body>${"x".repeat(4096)}</body></html>`);
  fs.writeFileSync(path.join(root, "plain.txt"), "</body>");
  const live = await start(t, { root, maxInjectBytes: 1024 });

  const withBody = (await raw(live.port, `${CANVAS}with-body.html`)).body.toString();
  assert.ok(withBody.startsWith("<html><BODY>hello<script>"), withBody.slice(0, 40));
  assert.ok(withBody.endsWith("</script>\n</BODY></html>"));
  assert.ok(withBody.includes(INJECTED) && withBody.includes('"/__clawdbot/ws"'));
  const fragment = (await raw(live.port, `${CANVAS}fragment.html`)).body.toString();
  assert.ok(fragment.startsWith("<p>fragment</p><script>") && fragment.includes(INJECTED));
  // Above the in-memory cap HTML is streamed untouched.
  const big = await raw(live.port, `${CANVAS}big.html`);
  assert.equal(big.body.toString(), fs.readFileSync(path.join(root, "big.html"), "utf8"));
  assert.equal((await raw(live.port, `${CANVAS}plain.txt`)).body.toString(), "</body>");
  const a2ui = await raw(live.port, "/__clawdbot__/a2ui/");
  assert.ok(a2ui.body.toString().includes(INJECTED));

  const quiet = await start(t, { root, liveReload: false });
  assert.equal((await raw(quiet.port, `${CANVAS}with-body.html`)).body.toString(), "<html><BODY>hello</BODY></html>");
  assert.equal((await raw(quiet.port, "/__clawdbot/ws")).status, 404);
});

test("a plain GET on the live-reload endpoint answers 426", async (t) => {
  const server = await start(t, { root: tempDir(t) });
  const res = await raw(server.port, "/__clawdbot/ws");
  assert.equal(res.status, 426);
  assert.equal(res.body.toString(), "upgrade required");
  assert.equal(res.headers.upgrade, "websocket");
});

test("A2UI: built-in assets by default, a configured directory, 503 when that directory is absent", async (t) => {
  const base = tempDir(t);
  const builtIn = await start(t, { root: path.join(base, "canvas") });
  const index = await raw(builtIn.port, "/__clawdbot__/a2ui/");
  assert.equal(index.status, 200);
  assert.equal(index.headers["content-type"], "text/html; charset=utf-8");
  const bundle = await raw(builtIn.port, "/__clawdbot__/a2ui/a2ui.bundle.js");
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers["content-type"], "text/javascript; charset=utf-8");
  assert.match(bundle.body.toString(), /clawdbotA2UI/);
  assert.equal((await raw(builtIn.port, "/__clawdbot__/a2ui")).headers.location, "/__clawdbot__/a2ui/");
  assert.equal((await raw(builtIn.port, "/__clawdbot__/a2ui/../canvas/index.html")).status, 404);

  const a2uiDir = path.join(base, "a2ui");
  fs.mkdirSync(a2uiDir);
  fs.writeFileSync(path.join(a2uiDir, "index.html"), "<body>custom a2ui</body>");
  fs.writeFileSync(path.join(a2uiDir, "a2ui.bundle.js"), "/* custom */");
  const custom = await start(t, { root: path.join(base, "canvas"), a2uiRoot: a2uiDir, liveReload: false });
  assert.equal((await raw(custom.port, "/__clawdbot__/a2ui/")).body.toString(), "<body>custom a2ui</body>");
  assert.equal((await raw(custom.port, "/__clawdbot__/a2ui/a2ui.bundle.js")).body.toString(), "/* custom */");
  assert.equal((await raw(custom.port, "/__clawdbot__/a2ui/%2e%2e/canvas/index.html")).status, 404);

  const absent = await start(t, { root: path.join(base, "canvas"), a2uiRoot: path.join(base, "nope") });
  const res = await raw(absent.port, "/__clawdbot__/a2ui/");
  assert.equal(res.status, 503);
  assert.equal(res.body.toString(), "A2UI assets not found");
});

/**
 * `gc()` without restarting node with --expose-gc: measuring *live* ArrayBuffer memory (after
 * a collection) is what makes the bound below deterministic; uncollected garbage chunks would
 * otherwise dominate the number.
 */
function getGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

test("a 100 MB file is streamed with backpressure and bounded memory", async (t) => {
  const SIZE = 100 * 1024 * 1024;
  const root = tempDir(t);
  const file = path.join(root, "big.bin");
  fs.writeFileSync(file, "");
  fs.truncateSync(file, SIZE); // sparse: costs no disk
  const server = await start(t, { root, liveReload: false });
  const gc = getGc();
  gc();
  const baseline = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const sample = (): void => {
    gc();
    peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
  };

  const received = await new Promise<number>((resolve, reject) => {
    const req = http.get(`http://127.0.0.1:${server.port}${CANVAS}big.bin`, (res) => {
      assert.equal(res.headers["content-length"], String(SIZE));
      let bytes = 0;
      let chunks = 0;
      // Stall the reader first: a server that ignores backpressure (or read the file into
      // memory) piles the whole file up in this process while the client is not reading.
      // There is no event for "the server stopped"; observe for a bounded window instead.
      res.once("data", () => {
        res.pause();
        let ticks = 0;
        const observe = setInterval(() => {
          sample();
          if (++ticks === 25) {
            clearInterval(observe);
            res.resume();
          }
        }, 20);
      });
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (++chunks % 32 === 0) sample();
      });
      res.on("end", () => resolve(bytes));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  sample();
  assert.equal(received, SIZE);
  assert.ok(peak < 16 * 1024 * 1024, `live ArrayBuffer memory grew by ${(peak / 1048576).toFixed(1)} MiB while streaming 100 MiB`);
});

/** Polls `cond` (no fixed sleep) until true or `timeoutMs` passes. */
async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test(
  "a client that disconnects mid-download releases the file descriptor",
  { skip: process.platform !== "linux" && "counts descriptors through /proc/self/fd" },
  async (t) => {
    const root = tempDir(t);
    const file = path.join(root, "big.bin");
    fs.writeFileSync(file, "");
    fs.truncateSync(file, 50 * 1024 * 1024);
    const real = fs.realpathSync(file);
    const openFds = (): number =>
      fs.readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === real;
        } catch {
          return false;
        }
      }).length;
    const server = await start(t, { root, liveReload: false });
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`http://127.0.0.1:${server.port}${CANVAS}big.bin`, (res) => {
        res.once("data", () => {
          assert.equal(openFds(), 1, "the server streams from an open descriptor");
          req.destroy();
          resolve();
        });
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (err.code !== "ECONNRESET") reject(err);
      });
    });
    await waitFor(() => openFds() === 0, 2000, "descriptor still open after the client went away");
    assert.equal((await raw(server.port, `${CANVAS}big.bin`, "HEAD")).status, 200);
  },
);
