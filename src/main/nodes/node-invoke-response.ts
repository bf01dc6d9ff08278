/** `node.invoke` success result (answered locally or forwarded by the owning gateway). */
export interface NodeInvokeResponse {
  ok: true;
  nodeId: string;
  command: string;
  payload?: unknown;
  payloadJSON: string | null;
}
