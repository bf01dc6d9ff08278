/**
 * Helpers for node routing tests on a cluster: nodes that answer every invoke by
 * themselves, `node.list` views, and polling for a cluster-wide condition (directory
 * and membership changes travel through the broker; no client event announces them).
 */
import type { Frame, TestClient } from "./client.js";
import type { TestNode } from "./node.js";

/** What an answering node replies to one `node.invoke.request` (null: stay silent). */
export type InvokeAnswer = (req: { id: string; nodeId: string; command: string; paramsJSON: string | null; idempotencyKey?: string }) => Record<string, unknown> | null;

/** Makes `node` answer every invoke with `answer` (default: echo of command and params). */
export function answerInvokes(node: TestNode, tag: string, answer?: InvokeAnswer): void {
  const reply: InvokeAnswer = answer ?? ((req) => ({ ok: true, payloadJSON: JSON.stringify({ tag, command: req.command, paramsJSON: req.paramsJSON, idempotencyKey: req.idempotencyKey ?? null }) }));
  let n = 0;
  node.client.ws.on("message", (data) => {
    let f: Frame;
    try {
      f = JSON.parse(data.toString()) as Frame;
    } catch {
      return;
    }
    if (f.type !== "event" || f.event !== "node.invoke.request") return;
    const req = f.payload as Parameters<InvokeAnswer>[0];
    const r = reply(req);
    if (r) node.client.send({ type: "req", id: `ans-${tag}-${n++}`, method: "node.invoke.result", params: { id: req.id, nodeId: req.nodeId, ...r } });
  });
}

/** `NodeInfo` fields the tests look at. */
export interface ListedNode {
  nodeId: string;
  displayName?: string;
  connected: boolean;
  commands: string[];
}

/** Ids of the connected nodes in `node.list` (sorted). */
export async function connectedNodeIds(op: TestClient): Promise<string[]> {
  const res = await op.request("node.list", {});
  if (!res.ok) throw new Error(`node.list failed: ${JSON.stringify(res.error)}`);
  return (res.payload.nodes as ListedNode[]).filter((n) => n.connected).map((n) => n.nodeId).sort();
}

/** Polls `probe` until it returns true; throws with `what` after `timeoutMs`. Returns the elapsed ms. */
export async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 15_000, stepMs = 25): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
