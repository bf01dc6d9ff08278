/** A real gateway whose agent config points at loopback provider fakes, plus client helpers. */
import { join } from "node:path";
import { startFakeOpenAI } from "../../fakes/fake-openai.js";
import { startFakeAnthropic } from "../../fakes/fake-anthropic.js";
import type { FakeProvider } from "../../fakes/fake-http.js";
import { startTestGateway } from "../../helpers/gateway.js";
import type { TestGateway, TestGatewayOverrides } from "../../helpers/gateway.js";
import { connectOk } from "../../helpers/client.js";
import type { Frame, TestClient } from "../../helpers/client.js";
import { providersFor } from "./provider-config.js";
import type { AgentRuntime } from "../../../src/main/agents/agent-runtime.js";

export interface AgentGateway {
  gw: TestGateway;
  openai: FakeProvider;
  anthropic: FakeProvider;
  runtime: AgentRuntime;
  /** Replaces the `agents`/`models`/`tools` config (live, as a reload would). */
  setConfig(agents: Record<string, unknown>, extra?: Record<string, unknown>): void;
  connect(): Promise<TestClient>;
  close(): Promise<void>;
}

/** Starts fakes + gateway. Default model `oa/gpt-a`, fallback none. */
export async function startAgentGateway(overrides: TestGatewayOverrides = {}): Promise<AgentGateway> {
  const openai = await startFakeOpenAI();
  const anthropic = await startFakeAnthropic();
  const gw = await startTestGateway(overrides);
  const models = providersFor({ openai, anthropic });
  const clients: TestClient[] = [];
  const setConfig = (agents: Record<string, unknown>, extra: Record<string, unknown> = {}): void => {
    const cur = gw.server.ctx.options;
    gw.server.ctx.options = { ...cur, agentConfig: { agents: { ...agents, defaults: { workspace: join(gw.stateDir, "ws"), ...(agents.defaults as object) } }, models, ...extra } };
  };
  setConfig({ defaults: { model: "oa/gpt-a" } });
  const runtime = gw.instance.module<AgentRuntime>("agents");
  if (!runtime) throw new Error("agents module not loaded");
  return {
    gw,
    openai,
    anthropic,
    runtime,
    setConfig,
    async connect() {
      const { client } = await connectOk(gw.url);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await gw.close();
      await openai.close();
      await anthropic.close();
    },
  };
}

let reqSeq = 0;

/** Sends `agent` and resolves with [ack, final] (both `res` frames of the same id). */
export async function agentTwoStage(client: TestClient, params: Record<string, unknown>, timeoutMs = 15_000): Promise<[Frame, Frame]> {
  const id = `agent-${++reqSeq}`;
  const from = client.frames.length;
  const ack = client.next((f) => f.type === "res" && f.id === id, timeoutMs, from);
  client.send({ type: "req", id, method: "agent", params });
  const first = await ack;
  const final = await client.next((f) => f.type === "res" && f.id === id && f !== first, timeoutMs, from);
  return [first, final];
}

/** Agent events of one run received so far. */
export function agentEvents(client: TestClient, runId: string): any[] {
  return client.frames.filter((f) => f.type === "event" && f.event === "agent" && f.payload?.runId === runId).map((f) => f.payload);
}

/** Chat events of one run received so far. */
export function chatEvents(client: TestClient, runId: string): any[] {
  return client.frames.filter((f) => f.type === "event" && f.event === "chat" && f.payload?.runId === runId).map((f) => f.payload);
}
