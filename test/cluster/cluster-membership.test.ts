/** Three real gateway processes on one private nats-server: each reports the broker connection in `health.cluster`. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connectOk } from "../helpers/client.js";
import { startClusterGateways, CLUSTER_TOKEN } from "../helpers/cluster-gateways.js";
import { startNatsServer } from "../helpers/nats-server.js";

test("three gateways join one cluster and report the broker in health", async (t) => {
  const nats = await startNatsServer(t);
  const gws = await startClusterGateways(t, nats, 3);
  for (const gw of gws) {
    const { client } = await connectOk(gw.url, { token: CLUSTER_TOKEN });
    t.after(() => client.close());
    let cluster: { gatewayId: string; name: string; broker: { connected: boolean } } | undefined;
    const deadline = Date.now() + 10_000;
    do {
      const res = await client.request("health", { probe: true });
      assert.equal(res.ok, true);
      cluster = (res.payload as { cluster?: typeof cluster }).cluster;
      if (cluster?.broker.connected) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    assert.equal(cluster?.gatewayId, gw.id);
    assert.equal(cluster?.name, "test");
    assert.equal(cluster?.broker.connected, true);
  }
});
