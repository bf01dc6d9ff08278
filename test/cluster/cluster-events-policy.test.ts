/** Which events cross gateways, and the bus's relay hook: once per local broadcast, never for a remote one. */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TemplatedApp } from "uWebSockets.js";
import { relayedEvent } from "../../src/main/cluster/cluster-events.js";
import { EventBus } from "../../src/main/events/event-bus.js";
import { ConnectionRegistry } from "../../src/main/socket/registry.js";

test("operator-audience events are relayed; gateway-local streams are not", () => {
  for (const e of ["device.pair.requested", "device.pair.resolved", "node.pair.requested", "node.pair.resolved", "node.renamed", "agent", "chat"]) assert.equal(relayedEvent(e), true, e);
  for (const e of ["tick", "shutdown", "presence", "health", "heartbeat", "cron", "talk.mode", "voicewake.changed", "exec.approval.requested", "node.*", "node.>", "node..x", "chat "]) assert.equal(relayedEvent(e), false, e);
});

test("the bus hands local broadcasts to the relay once, with the frames' JSON, and never a fromCluster one", () => {
  const published: string[] = [];
  const app = { publish: (topic: string) => published.push(topic) } as unknown as TemplatedApp;
  const bus = new EventBus({ app, registry: new ConnectionRegistry(), maxBufferedBytes: () => 1 << 20, onSlowConsumer: () => undefined });
  const relayed: [string, string | undefined, boolean][] = [];
  bus.setRelay((event, json, droppable) => relayed.push([event, json, droppable]));
  bus.broadcast("node.pair.requested", { nodeId: "n1" });
  bus.broadcast("chat", { state: "delta" });
  bus.broadcast("chat", undefined, { payloadJson: '{"state":"final"}', fromCluster: true, droppable: false });
  assert.deepEqual(relayed, [
    ["node.pair.requested", '{"nodeId":"n1"}', true],
    ["chat", '{"state":"delta"}', true],
  ]);
  assert.ok(published.length >= 3, "the remote event was still delivered locally");
  bus.setRelay(null);
  bus.broadcast("agent", { runId: "r" });
  assert.equal(relayed.length, 2);
});
