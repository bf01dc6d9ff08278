/**
 * `logs.tail` over WS against a real gateway whose `logging.file` is set in config,
 * and `clawdbot logs` (--json --limit, --follow) on top of it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, readFile, truncate } from "node:fs/promises";
import { join } from "node:path";

import { connectOk } from "../helpers/client.js";
import { makeCliEnv, runCli, spawnCli, startCliGateway } from "../helpers/cli.js";

const TOKEN = "5b8e1d4a7c0f3e6b9a2d5c8f1e4b7a0d";

interface TailResult {
  file: string;
  cursor: number;
  size: number;
  lines: string[];
  truncated: boolean;
  reset: boolean;
}

function marker(tag: string, i: number): string {
  return JSON.stringify({ level: 30, time: new Date().toISOString(), msg: `${tag}-${i}`, _meta: { logLevelName: "INFO" } });
}

test("logs.tail cursor/limit/reset and clawdbot logs --json/--follow", async (t) => {
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const logFile = join(env.home, "gateway-file.log");
  await env.writeConfig({ gateway: { mode: "local", auth: { mode: "token", token: TOKEN } }, logging: { file: logFile } });
  const gw = await startCliGateway(["--port", "0"], env.env, t);
  const { client } = await connectOk(gw.url, { token: TOKEN });
  t.after(() => client.ws.close());
  const tail = async (params: Record<string, number>): Promise<TailResult> => {
    const res = await client.request("logs.tail", params);
    assert.equal(res.ok, true, JSON.stringify(res.error));
    return res.payload as TailResult;
  };

  // The gateway writes its own log there (config → GatewayOptions.logFile → logs.tail).
  const first = await tail({});
  assert.equal(first.file, logFile);
  assert.ok(first.lines.some((l) => l.includes("gateway listening")), first.lines.join("\n"));
  assert.equal(first.cursor, first.size);
  assert.equal(first.reset, false);

  // From the cursor: exactly what was appended since (filtered to our markers, the
  // gateway may log in between).
  await appendFile(logFile, [1, 2, 3, 4, 5].map((i) => marker("a", i)).join("\n") + "\n");
  const next = await tail({ cursor: first.cursor });
  assert.deepEqual(
    next.lines.filter((l) => l.includes('"a-')).map((l) => (JSON.parse(l) as { msg: string }).msg),
    ["a-1", "a-2", "a-3", "a-4", "a-5"],
  );
  assert.ok(!next.lines.some((l) => l.includes("gateway listening")), "nothing before the cursor");

  const limited = await tail({ cursor: first.cursor, limit: 2 });
  assert.equal(limited.lines.length, 2);

  // A cursor past the end (file truncated/rotated) resets to the tail.
  await truncate(logFile, 0);
  await appendFile(logFile, marker("b", 1) + "\n");
  const reset = await tail({ cursor: next.cursor });
  assert.equal(reset.reset, true);
  assert.ok(reset.lines.some((l) => l.includes('"b-1"')));

  const bad = await client.request("logs.tail", { limit: 0 });
  assert.equal(bad.ok, false);
  assert.equal(bad.error?.code, "INVALID_REQUEST");

  // clawdbot logs --json --limit N: N JSON objects, the file's last N lines.
  await appendFile(logFile, [1, 2, 3, 4].map((i) => marker("c", i)).join("\n") + "\n");
  const e = { ...env.env, CLAWDBOT_GATEWAY_PORT: String(gw.port) };
  const json = await runCli(["logs", "--json", "--limit", "3"], e);
  assert.equal(json.code, 0, json.stderr);
  const printed = json.stdout.split("\n").filter((l) => l !== "");
  assert.equal(printed.length, 3, json.stdout);
  // The printed lines are the file's lines as of the read: a contiguous window that ends
  // at or after c-4 (the gateway may log more lines after our read).
  const fileLines = (await readFile(logFile, "utf8")).split("\n").filter((l) => l !== "");
  const objects = fileLines.map((l) => JSON.stringify(JSON.parse(l)));
  const start = objects.findIndex((_, i) => printed.every((p, j) => JSON.stringify(JSON.parse(p)) === objects[i + j]));
  assert.ok(start >= 0, `printed lines are not a window of the file:\n${json.stdout}`);
  assert.ok(start + 2 >= fileLines.findIndex((l) => l.includes('"c-4"')), "the window reaches the end of the file at read time");

  // --follow picks up lines appended after it started.
  const follow = spawnCli(["logs", "--follow", "--interval", "100", "--plain", "--limit", "1"], e, t);
  await follow.waitLine(/c-4/);
  await appendFile(logFile, marker("d", 1) + "\n");
  await follow.waitLine(/^\[[\d\-T:.]+Z\] INFO: d-1$/);
  follow.kill("SIGTERM");
  await follow.exited;

  // Unreachable gateway → exit 1 with the target named.
  gw.kill("SIGTERM");
  await gw.exited;
  const down = await runCli(["logs", "--limit", "1"], e);
  assert.equal(down.code, 1);
  assert.match(down.stderr, new RegExp(`Gateway target: ws://127\\.0\\.0\\.1:${gw.port}`));
});
