/**
 * Legacy node pairing `node.pair.request/list/approve/reject/verify` (§3.11, PAIRING
 * scope) on `<stateDir>/nodes/{pending,paired}.json`. Every mutation is on disk before
 * it is acknowledged; `node.pair.requested` / `node.pair.resolved` go to the pairing
 * topic only (operators holding `operator.pairing` or admin).
 */
import type { MethodTable } from "../router.js";
import type { NodePairingRequestInput } from "../../shared/store/node-pairing-types.js";
import type { NodeService } from "./node-service.js";

/** Registers the node pairing methods. */
export function registerNodePairMethods(table: MethodTable, nodes: NodeService): void {
  table.add("node.pair.request", "NodePairRequestParams", async ({ ctx, params }) => {
    const input: NodePairingRequestInput = { ...params };
    const result = nodes.pairing.request(input);
    await nodes.pairing.flush();
    if (result.created) ctx.bus.broadcast("node.pair.requested", result.request);
    return result;
  });

  table.add("node.pair.list", "NodePairListParams", () => ({
    pending: nodes.pairing.listPending(),
    paired: nodes.pairing.listPaired(),
  }));

  table.add("node.pair.approve", "NodePairApproveParams", async ({ ctx, params }) => {
    const approved = nodes.pairing.approve(params.requestId);
    await nodes.pairing.flush();
    ctx.bus.broadcast("node.pair.resolved", { requestId: params.requestId, nodeId: approved.node.nodeId, decision: "approved", ts: Date.now() });
    return approved;
  });

  table.add("node.pair.reject", "NodePairRejectParams", async ({ ctx, params }) => {
    const rejected = nodes.pairing.reject(params.requestId);
    await nodes.pairing.flush();
    ctx.bus.broadcast("node.pair.resolved", { requestId: params.requestId, nodeId: rejected.nodeId, decision: "rejected", ts: Date.now() });
    return rejected;
  });

  table.add("node.pair.verify", "NodePairVerifyParams", ({ params }) => nodes.pairing.verify(params.nodeId, params.token));
}
