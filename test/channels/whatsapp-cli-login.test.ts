/**
 * `clawdbot channels login --channel whatsapp` (runWhatsAppLogin): prints the QR in the
 * terminal, waits for the scan, exits 0 once linked; "already linked" without a QR.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { runWhatsAppLogin } from "../../src/cli/commands/whatsapp-login.js";
import { FakeBaileysControl } from "../fakes/fake-baileys-control.js";
import { SELF_JID } from "../fakes/fake-baileys-harness.js";

function sink(): { out: Writable; text: () => string; changed: (pred: (s: string) => boolean) => Promise<void> } {
  let buf = "";
  const waiters = new Set<() => void>();
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      for (const w of [...waiters]) w();
      cb();
    },
  });
  return {
    out,
    text: () => buf,
    changed: (pred) =>
      new Promise((resolve) => {
        if (pred(buf)) return resolve();
        const w = (): void => {
          if (pred(buf)) {
            waiters.delete(w);
            resolve();
          }
        };
        waiters.add(w);
      }),
  };
}

test("channels login --channel whatsapp prints the QR in the terminal and exits 0 once linked; again → already linked", async (t) => {
  const stateDir = await mkdtemp(join(tmpdir(), "clawgate-wa-cli-"));
  const fake = new FakeBaileysControl();
  t.after(async () => {
    fake.close();
    await rm(stateDir, { recursive: true, force: true });
  });
  const s = sink();
  const run = runWhatsAppLogin({ stateDir, out: s.out, worker: fake.workerSettings });
  await fake.sockets(1);
  fake.send({ op: "emit", event: "connection.update", data: { qr: "2@cliRef,noise,identity,adv" } });
  await s.changed((b) => b.includes("Linked Devices"));
  assert.match(s.text(), /[▀▄█]/, "QR drawn with block characters");
  fake.send({ op: "pair", me: SELF_JID });
  fake.send({ op: "close", status: 515, wrapped: true });
  await fake.sockets(2);
  fake.send({ op: "open", user: { id: SELF_JID } });
  assert.equal(await run, 0);
  assert.match(s.text(), /✅ Linked! WhatsApp is ready\./);
  const creds = JSON.parse(await readFile(join(stateDir, "credentials", "whatsapp", "default", "creds.json"), "utf8")) as { me?: { id?: string } };
  assert.equal(creds.me?.id, SELF_JID);

  const s2 = sink();
  assert.equal(await runWhatsAppLogin({ stateDir, out: s2.out, worker: fake.workerSettings }), 0);
  assert.match(s2.text(), /^WhatsApp is already linked/);
});

test("clawdbot channels login is registered: --channel whatsapp on a linked account says so and exits 0; other channels exit 1", async (t) => {
  const { makeCliEnv, runCli } = await import("../helpers/cli.js");
  const { writeLinkedCreds } = await import("../fakes/fake-baileys-harness.js");
  const env = await makeCliEnv();
  t.after(() => env.cleanup());
  const help = await runCli(["channels", "login", "--help"], env.env);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /--channel <channel>/);
  const tg = await runCli(["channels", "login", "--channel", "telegram"], env.env);
  assert.equal(tg.code, 1);
  assert.match(tg.stderr, /supports --channel whatsapp only/);
  // Linked already: the real worker answers without opening a socket (no network).
  await writeLinkedCreds(join(env.stateDir, "credentials", "whatsapp", "default"));
  const linked = await runCli(["channels", "login", "--channel", "whatsapp"], env.env, 60_000);
  assert.equal(linked.code, 0, linked.stderr);
  assert.match(linked.stdout, /WhatsApp is already linked/);
});
