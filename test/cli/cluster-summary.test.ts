/** The cluster lines of `clawdbot health` / `gateway status` (src/cli/commands/cluster-summary.ts). */
import { test } from "node:test";
import assert from "node:assert/strict";
import { clusterSections, formatClusterLines } from "../../src/cli/commands/cluster-summary.js";

test("Nodes: lists each live member's connected nodes from the membership records", () => {
  const health = {
    cluster: {
      name: "prod",
      gatewayId: "gw-a",
      broker: { connected: true, server: "nats://10.0.0.5:4222", reconnects: 0 },
      members: [
        { id: "gw-a", nodes: 2, self: true },
        { id: "gw-b", nodes: 10, self: false },
        { id: "gw-c", nodes: 0, self: false },
      ],
    },
  };
  const lines = formatClusterLines(clusterSections(health));
  assert.equal(lines[0], "Cluster:  prod as gw-a, broker connected to nats://10.0.0.5:4222 (0 reconnects)");
  assert.equal(lines.at(-1), "Nodes:    gw-a 2 (this gateway), gw-b 10, gw-c 0");
});

test("no Nodes: line without membership records", () => {
  const lines = formatClusterLines(clusterSections({ cluster: { name: "prod", gatewayId: "gw-a", broker: { connected: false } } }));
  assert.equal(lines.length, 1);
  assert.equal(formatClusterLines(clusterSections({ status: "ok" })).length, 0, "nothing without a cluster");
});
