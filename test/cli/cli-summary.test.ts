/** `clawdbot health|status` and `gateway health`: a human summary by default, JSON with --json. */
import { test } from "node:test";
import assert from "node:assert/strict";

import { formatDuration, formatGatewaySummary } from "../../src/cli/commands/rpc-summary.js";
import { localGatewayEnv, runCli, startCliGateway } from "../helpers/cli.js";

test("health and status print a short summary; --json prints the payload", async (t) => {
  const env = await localGatewayEnv(t, {});
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const e = { ...env.env, CLAWDBOT_GATEWAY_PORT: String(gw.port) };
  // `gateway health` shares runRpc's summary path with `health`.
  const [health, status, statusJson] = await Promise.all([runCli(["health"], e), runCli(["status"], e), runCli(["status", "--json"], e)]);
  for (const r of [health, status]) {
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.match(lines[0] ?? "", new RegExp(`^Gateway:  reachable at ws://127\\.0\\.0\\.1:${gw.port} \\(version \\S+, up \\d+[smhd]`));
    assert.match(r.stdout, /^Channels: none configured$/m);
    assert.match(r.stdout, /^Sessions: 0$/m);
    assert.match(r.stdout, /^Nodes: {4}0 connected, 0 paired$/m);
    assert.throws(() => JSON.parse(r.stdout), "not JSON by default");
  }
  assert.equal(statusJson.code, 0, statusJson.stderr);
  assert.equal(typeof (JSON.parse(statusJson.stdout) as { sessions: { count: number } }).sessions.count, "number");
});

test("summary formatting: channels, recent session, nodes, durations", () => {
  assert.equal(formatDuration(45_000), "45s");
  assert.equal(formatDuration(3 * 3600_000 + 12 * 60_000), "3h 12m");
  assert.equal(formatDuration(2 * 86_400_000 + 4 * 3600_000), "2d 4h");
  const text = formatGatewaySummary({
    url: "ws://127.0.0.1:18789",
    method: "health",
    hello: { server: { version: "2026.1.24" }, snapshot: { uptimeMs: 65_000 } },
    payload: {
      ok: true,
      channels: { whatsapp: { configured: true, linked: true, connected: true }, telegram: { configured: true, running: false, lastError: "401" } },
      sessions: { count: 3, recent: [{ key: "agent:main:main", age: 300_000 }] },
    },
    nodes: { nodes: [{ paired: true, connected: true }, { paired: true, connected: false }] },
  });
  assert.equal(
    text,
    [
      "Gateway:  reachable at ws://127.0.0.1:18789 (version 2026.1.24, up 1m 5s)",
      "Channels: whatsapp: configured, linked, connected",
      "          telegram: configured, error: 401",
      "Sessions: 3 (most recent: agent:main:main, 5m 0s ago)",
      "Nodes:    1 connected, 2 paired",
      "",
    ].join("\n"),
  );
  assert.match(formatGatewaySummary({ url: "u", method: "status", hello: {}, payload: { channelSummary: ["\u001b[32mwhatsapp: linked\u001b[0m"] }, nodes: "unauthorized" }), /Channels: whatsapp: linked\n[^]*Nodes: {4}unknown \(unauthorized\)/);
});
