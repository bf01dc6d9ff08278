/**
 * gateway.tls: wss:// only (a plain ws:// connect fails), a self-signed pair generated
 * under the state dir (0600) whose fingerprint is reported, the CLI pinning it, and
 * exit 78 instead of plaintext when the configured certificate cannot be used.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import { startTestGateway } from "./helpers/gateway.js";
import { buildConnectParams } from "./helpers/client.js";
import { localGatewayEnv, makeCliEnv, runCli, spawnCli, LOCAL_TOKEN } from "./helpers/cli.js";
import { defaultTlsPaths } from "../src/main/server/tls.js";

interface Outcome {
  fingerprint?: string;
  hello?: { type?: string };
  error?: string;
}

/** Opens `url`, completes the protocol handshake, returns the peer certificate's fingerprint and hello-ok. */
function handshake(url: string, opts: WebSocket.ClientOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { handshakeTimeout: 5000, ...opts });
    const out: Outcome = {};
    const done = (): void => {
      ws.removeAllListeners();
      ws.on("error", () => undefined);
      ws.terminate();
      resolve(out);
    };
    ws.on("upgrade", (res) => {
      out.fingerprint = (res.socket as TLSSocket).getPeerCertificate?.().fingerprint256;
    });
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString());
      if (f.event === "connect.challenge") ws.send(JSON.stringify({ type: "req", id: "c", method: "connect", params: buildConnectParams(f.payload.nonce) }));
      else if (f.id === "c") {
        out.hello = f.payload;
        if (!f.ok) out.error = JSON.stringify(f.error);
        done();
      }
    });
    ws.on("error", (err) => {
      out.error = err.message;
      done();
    });
    ws.on("close", (code) => {
      out.error ??= `closed ${code}`;
      done();
    });
  });
}

test("TLS enabled: wss:// with the generated self-signed certificate completes the handshake; plain ws:// fails", async (t) => {
  const gw = await startTestGateway({ tls: { enabled: true, autoGenerate: true } });
  t.after(() => gw.close());
  const tls = gw.server.tls;
  assert.ok(tls, "server reports its certificate");
  assert.equal(tls.generated, true);
  const paths = defaultTlsPaths(gw.stateDir);
  const onDisk = new X509Certificate(readFileSync(paths.cert, "utf8"));
  assert.equal(tls.fingerprintSha256, onDisk.fingerprint256);
  assert.equal(statSync(paths.key).mode & 0o777, 0o600, "private key is 0600");
  assert.equal(statSync(paths.cert).mode & 0o777, 0o600);
  assert.equal(statSync(paths.dir).mode & 0o777, 0o700);

  const plain = await handshake(`ws://127.0.0.1:${gw.port}`);
  assert.equal(plain.hello, undefined, "no plaintext session");
  assert.ok(plain.error);

  const secure = await handshake(`wss://127.0.0.1:${gw.port}`, { rejectUnauthorized: false });
  assert.equal(secure.error, undefined);
  assert.equal(secure.hello?.type, "hello-ok");
  assert.equal(secure.fingerprint, tls.fingerprintSha256, "the client sees the advertised certificate");

  const verified = await handshake(`wss://127.0.0.1:${gw.port}`, { ca: readFileSync(paths.cert) });
  assert.equal(verified.hello?.type, "hello-ok", "the certificate verifies against itself for 127.0.0.1 (SAN)");
});

test("TLS enabled with an unreadable certificate exits 78 and never listens", async (t) => {
  const env = await localGatewayEnv(t, {});
  await env.writeConfig({
    gateway: { mode: "local", auth: { token: LOCAL_TOKEN }, tls: { enabled: true, certPath: `${env.home}/missing-cert.pem`, keyPath: `${env.home}/missing-key.pem` } },
  });
  const r = await runCli(["gateway", "--port", "0"], env.env, 30_000);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /gateway\.tls: cannot read certificate .*missing-cert\.pem/);
  assert.doesNotMatch(r.stdout, /Gateway listening/);
});

test("the CLI connects to a local TLS gateway over wss:// pinned to the certificate on disk", async (t) => {
  const env = await localGatewayEnv(t, {});
  await env.writeConfig({ gateway: { mode: "local", auth: { token: LOCAL_TOKEN }, tls: { enabled: true } } });
  const gw = spawnCli(["gateway", "--port", "0"], env.env, t);
  const m = await gw.waitLine(/Gateway listening on wss:\/\/[^:]+:(\d+)/, 30_000);
  const fp = await gw.waitLine(/TLS certificate SHA-256 fingerprint: ([0-9A-F:]+)/);
  const port = m[1]!;
  const ok = await runCli(["gateway", "call", "health", "--json"], { ...env.env, CLAWDBOT_GATEWAY_PORT: port });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).ok, true);
  assert.equal(fp[1], new X509Certificate(readFileSync(defaultTlsPaths(env.stateDir).cert, "utf8")).fingerprint256);

  // Remote mode (another user's config, so the running gateway's config stays as is)
  // with a wrong pin: refused before any credential is sent.
  const client = await makeCliEnv();
  t.after(() => client.cleanup());
  await client.writeConfig({ gateway: { mode: "remote", remote: { url: `wss://127.0.0.1:${port}`, token: LOCAL_TOKEN, tlsFingerprint: "AA:".repeat(31) + "AA" } } });
  const bad = await runCli(["gateway", "call", "health"], client.env);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /fingerprint mismatch/);
  await client.writeConfig({ gateway: { mode: "remote", remote: { url: `wss://127.0.0.1:${port}`, token: LOCAL_TOKEN, tlsFingerprint: fp[1] } } });
  const pinned = await runCli(["gateway", "call", "health"], client.env);
  assert.equal(pinned.code, 0, pinned.stderr);
  gw.kill("SIGTERM");
  await gw.exited;
});
