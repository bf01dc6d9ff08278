/**
 * Starts a real supervised WhatsApp account worker whose socket factory is the fake
 * (fake-baileys.ts), in a temp state dir, with short timings; cleans up in t.after.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { WhatsAppAccount, whatsappAuthDir } from "../../src/main/channels/whatsapp/whatsapp-account.js";
import type { WhatsAppAccountOptions, WhatsAppAccountSnapshot } from "../../src/main/channels/whatsapp/whatsapp-account.js";
import type { WhatsAppInbound } from "../../src/workers/channels/whatsapp/whatsapp-link-protocol.js";
import { FakeBaileysControl } from "./fake-baileys-control.js";

export const SELF_JID = "15550001111:7@s.whatsapp.net";

/** Writes a linked `creds.json` (real Baileys creds with `me`) into `authDir`. */
export async function writeLinkedCreds(authDir: string, me = SELF_JID, file = "creds.json"): Promise<string> {
  const { initAuthCreds, BufferJSON } = await import("@whiskeysockets/baileys");
  const creds = { ...initAuthCreds(), me: { id: me }, registered: true };
  const text = JSON.stringify(creds, BufferJSON.replacer);
  await mkdir(authDir, { recursive: true });
  await writeFile(join(authDir, file), text);
  return text;
}

export interface Harness {
  account: WhatsAppAccount;
  fake: FakeBaileysControl;
  authDir: string;
  inbound: WhatsAppInbound[];
  states: WhatsAppAccountSnapshot[];
  /** Resolves with the first snapshot (current or future) satisfying `pred`. */
  waitState(pred: (s: WhatsAppAccountSnapshot) => boolean, what: string, timeoutMs?: number): Promise<WhatsAppAccountSnapshot>;
  waitInbound(count: number): Promise<void>;
}

export interface HarnessOptions {
  linked?: boolean;
  /** Runs before the worker starts (e.g. write corrupt creds). */
  prepare?: (authDir: string) => Promise<void>;
  worker?: WhatsAppAccountOptions["worker"];
  restart?: WhatsAppAccountOptions["restart"];
}

export async function startHarness(t: TestContext, o: HarnessOptions = {}): Promise<Harness> {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-wa-"));
  const authDir = whatsappAuthDir(stateDir, "default");
  if (o.linked) await writeLinkedCreds(authDir);
  await o.prepare?.(authDir);
  const fake = new FakeBaileysControl();
  const account = new WhatsAppAccount({
    authDir,
    worker: { reconnect: { initialMs: 50, factor: 1.8, jitter: 0, maxMs: 200, maxAttempts: 12 }, ...o.worker, ...fake.workerSettings },
    restart: { initialDelayMs: 50, ...o.restart },
    supervisor: { heartbeatIntervalMs: 200, startTimeoutMs: 60_000 },
  });
  const inbound: WhatsAppInbound[] = [];
  const states: WhatsAppAccountSnapshot[] = [];
  const waiters = new Set<() => void>();
  account.onInbound((m) => {
    inbound.push(m);
    for (const w of [...waiters]) w();
  });
  account.onState((s) => {
    states.push(s);
    for (const w of [...waiters]) w();
  });
  t.after(async () => {
    await account.stop(3000);
    fake.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  const waitUntil = (check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`timed out waiting for ${what}; last state: ${JSON.stringify(states.at(-1) ?? null).slice(0, 600)}`));
      }, timeoutMs);
      const w = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve();
      };
      waiters.add(w);
    });
  await account.start();
  return {
    account,
    fake,
    authDir,
    inbound,
    states,
    async waitState(pred, what, timeoutMs) {
      let hit: WhatsAppAccountSnapshot | undefined;
      await waitUntil(() => {
        const cur = account.snapshot();
        hit = pred(cur) ? cur : undefined;
        return hit !== undefined;
      }, what, timeoutMs);
      return hit as WhatsAppAccountSnapshot;
    },
    waitInbound: (count) => waitUntil(() => inbound.length >= count, `${count} inbound message(s)`),
  };
}
