/**
 * Node-role test clients: device-signed `connect` as `clawdbot node run` does (role
 * node, scopes [], client node-host/node), plus helpers to answer invokes.
 */
import { connectOk, type ConnectOptions, type Frame, type TestClient } from "./client.js";
import { createDevice, type TestDevice } from "./device.js";

export interface NodeOptions {
  device?: TestDevice;
  platform?: string;
  deviceFamily?: string;
  displayName?: string;
  instanceId?: string;
  commands?: string[];
  caps?: string[];
  permissions?: Record<string, boolean>;
  pathEnv?: string;
  /** Connect without a device (nodeId = client.id). */
  noDevice?: boolean;
  token?: string | null;
}

export interface TestNode {
  client: TestClient;
  hello: Frame["payload"];
  device: TestDevice | undefined;
  /** device.id, or client.id without a device. */
  nodeId: string;
}

/** Connect options of a node. */
export function nodeConnectOptions(o: NodeOptions = {}): ConnectOptions & { device?: TestDevice } {
  const device = o.noDevice ? undefined : (o.device ?? createDevice());
  const client: Record<string, unknown> = { id: "node-host", mode: "node", platform: o.platform ?? "darwin" };
  if (o.deviceFamily) client.deviceFamily = o.deviceFamily;
  if (o.displayName) client.displayName = o.displayName;
  if (o.instanceId) client.instanceId = o.instanceId;
  const extra: Record<string, unknown> = {};
  if (o.commands) extra.commands = o.commands;
  if (o.caps) extra.caps = o.caps;
  if (o.permissions) extra.permissions = o.permissions;
  if (o.pathEnv) extra.pathEnv = o.pathEnv;
  return { role: "node", scopes: [], client, extra, device, ...(o.token !== undefined ? { token: o.token } : {}) };
}

/** Connects a node and returns it with its node id. */
export async function connectNode(url: string, o: NodeOptions = {}): Promise<TestNode> {
  const opts = nodeConnectOptions(o);
  const { client, hello } = await connectOk(url, opts);
  return { client, hello, device: opts.device, nodeId: opts.device?.id ?? "node-host" };
}

/** Waits for the next `node.invoke.request` (after frame index `from`). */
export function nextInvoke(node: TestNode, from = 0, timeoutMs = 5000): Promise<Frame> {
  return node.client.next((f) => f.type === "event" && f.event === "node.invoke.request", timeoutMs, from);
}
