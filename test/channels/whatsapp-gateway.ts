/**
 * A gateway composed like `gateway run` (agents module answering channel messages through
 * the fake OpenAI model) whose channels run WhatsApp on the fake Baileys socket, and
 * optionally Telegram on the fake Bot API.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { CHANNELS_MODULE, type ChannelsApi } from "../../src/main/channels/channels-module.js";
import { startAgentGateway, type AgentGateway } from "../agent/helpers/agent-gateway.js";
import type { TestGatewayOverrides } from "../helpers/gateway.js";
import { FakeBaileysControl } from "../fakes/fake-baileys-control.js";
import { writeLinkedCreds } from "../fakes/fake-baileys-harness.js";
import { FAST_RESTART } from "./channels-helpers.js";

export interface WhatsAppGateway {
  h: AgentGateway;
  fake: FakeBaileysControl;
  api: ChannelsApi;
  stateDir: string;
  /** The `channels` section the module reads (mutable: edits act like config changes). */
  channels: Record<string, unknown>;
}

/** Fast restarts for both channels (the production schedule starts at 2 s). */
export const FAST_BOTH = { ...FAST_RESTART, whatsapp: FAST_RESTART.telegram };

export async function startWhatsAppGateway(
  t: TestContext,
  o: { linked?: boolean; channels?: Record<string, unknown>; heartbeatTimeoutMs?: number; hooks?: TestGatewayOverrides["hooks"] } = {},
): Promise<WhatsAppGateway> {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-wa-gw-"));
  if (o.linked) await writeLinkedCreds(join(stateDir, "credentials", "whatsapp", "default"));
  const fake = new FakeBaileysControl();
  const channels = o.channels ?? { whatsapp: { dmPolicy: "open" } };
  const h = await startAgentGateway({
    stateDir,
    ...(o.hooks ? { hooks: o.hooks } : {}),
    extra: {
      channels: {
        readChannelsConfig: () => channels,
        env: {},
        restart: FAST_BOTH,
        pollTimeoutSec: 2,
        heartbeatTimeoutMs: o.heartbeatTimeoutMs ?? 2000,
        whatsappWorker: { ...fake.workerSettings, reconnect: { initialMs: 50, factor: 1.8, jitter: 0, maxMs: 200, maxAttempts: 12 } },
      },
    },
  });
  t.after(async () => {
    await h.close();
    fake.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  const api = h.gw.instance.module<ChannelsApi>(CHANNELS_MODULE);
  if (!api) throw new Error("channels module not loaded");
  return { h, fake, api, stateDir, channels };
}

/** A WhatsApp DM upsert from `from` (digits) with `text`. */
export function dmUpsert(id: string, from: string, text: string): { op: "emit"; event: string; data: unknown } {
  return { op: "emit", event: "messages.upsert", data: { type: "notify", messages: [{ key: { remoteJid: `${from}@s.whatsapp.net`, id }, message: { conversation: text }, messageTimestamp: Math.floor(Date.now() / 1000), pushName: "Ann" }] } };
}
