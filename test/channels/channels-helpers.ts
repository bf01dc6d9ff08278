/** Shared set-up of the channel tests: a fake Bot API and a gateway with the channels module. */
import type { TestContext } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { FakeTelegram } from "../fakes/fake-telegram.js";
import { startFakeOpenAI } from "../fakes/fake-openai.js";
import type { FakeProvider } from "../fakes/fake-http.js";
import { channelsModule, CHANNELS_MODULE, type ChannelsApi } from "../../src/main/channels/channels-module.js";
import type { InboundHandler, InboundMessage } from "../../src/main/channels/channel-types.js";
import { agentSendMirror } from "../../src/main/channels/agent-inbound.js";
import { AGENTS_MODULE } from "../../src/main/agents/agents-module.js";
import type { AgentRuntime } from "../../src/main/agents/agent-runtime.js";

export const TOKEN = "123456:TEST-token-abcdef";
export const BOT = { id: 123456, username: "clawgate_test_bot" };

/** Fast restarts for tests (the production schedule starts at 2 s). */
export const FAST_RESTART = { telegram: { initialDelayMs: 50, factor: 1.5, maxDelayMs: 500, maxRestarts: 20, windowMs: 60_000 } };

export interface ChannelsSetup {
  fake: FakeTelegram;
  gw: TestGateway;
  api: ChannelsApi;
  handled: InboundMessage[];
  /** Mutable `channels` config the module reads (at start and reload). */
  config: { telegram: Record<string, unknown> };
}

/** An echo handler that records what it saw. */
export function echoHandler(handled: InboundMessage[], hook?: (m: InboundMessage) => void): InboundHandler {
  return async (m) => {
    handled.push(m);
    hook?.(m);
    return { replyText: `echo: ${m.text}` };
  };
}

export async function startChannels(
  t: TestContext,
  telegram: Record<string, unknown>,
  o: { stateDir?: string; fake?: FakeTelegram; hook?: (m: InboundMessage) => void; handler?: InboundHandler } = {},
): Promise<ChannelsSetup> {
  let fake = o.fake;
  if (!fake) {
    fake = new FakeTelegram();
    await fake.start();
    fake.addBot(TOKEN, BOT);
    const f = fake;
    t.after(() => f.close());
  }
  const handled: InboundMessage[] = [];
  const config = { telegram: { botToken: TOKEN, apiRoot: fake.apiRoot, ...telegram } };
  let started: TestGateway | undefined;
  const gw = await startTestGateway({
    ...(o.stateDir ? { stateDir: o.stateDir } : {}),
    extra: {
      modules: [
        channelsModule({
          handler: o.handler ?? echoHandler(handled, o.hook),
          // As the production loader wires it: delivered sends into the agents' transcripts.
          mirror: agentSendMirror(() => started?.instance.module<AgentRuntime>(AGENTS_MODULE)),
          readChannelsConfig: () => config,
          env: {},
          restart: FAST_RESTART,
          pollTimeoutSec: 2,
          heartbeatTimeoutMs: 2000,
        }),
      ],
    },
  });
  started = gw;
  t.after(() => gw.close());
  const api = gw.instance.module<ChannelsApi>(CHANNELS_MODULE);
  if (!api) throw new Error("channels module not loaded");
  return { fake, gw, api, handled, config };
}

/** Polls `cond` every 20 ms until true (bounded). */
export async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A fake Bot API with the test bot and a fake OpenAI model, both closed when the test ends. */
export async function startChannelFakes(t: { after: (fn: () => Promise<void>) => void }): Promise<{ tg: FakeTelegram; openai: FakeProvider }> {
  const tg = new FakeTelegram();
  await tg.start();
  tg.addBot(TOKEN, BOT);
  const openai = await startFakeOpenAI();
  t.after(async () => {
    await tg.close();
    await openai.close();
  });
  return { tg, openai };
}
