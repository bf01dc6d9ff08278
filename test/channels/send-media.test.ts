/**
 * `send` with `mediaUrl` / `mediaUrls` (§3.4 step 5): the channel worker loads each medium
 * (http(s) URL from a loopback server, or a local file), bounded by `mediaMaxMb`, and sends
 * it with the method its type calls for; the text is the first medium's caption when it fits
 * (Telegram 1024), else its own messages after the media. Bad references are INVALID_REQUEST
 * before anything is recorded; a medium that cannot be loaded fails the send (UNAVAILABLE,
 * cached under the key) with nothing delivered. WhatsApp gets image/document content with
 * the same bytes over the fake socket.
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectOk } from "../helpers/client.js";
import { startChannels, TOKEN, until } from "./channels-helpers.js";
import { isPrivateAddress } from "../../src/workers/channels/public-fetch.js";
import { splitMediaDirectives } from "../../src/shared/run-directives.js";
import { startWhatsAppGateway } from "./whatsapp-gateway.js";
import { SELF_JID } from "../fakes/fake-baileys-harness.js";

const sha = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
const PNG = Buffer.concat([Buffer.from("\x89PNG\r\n\x1a\n", "latin1"), randomBytes(3000)]);
const GIF = Buffer.concat([Buffer.from("GIF89a", "latin1"), randomBytes(500)]);
const PDF = Buffer.concat([Buffer.from("%PDF-1.4\n", "latin1"), randomBytes(800)]);
const OGG = Buffer.concat([Buffer.from("OggS", "latin1"), randomBytes(600)]);

interface MediaServer {
  url: string;
  hits: string[];
}

/** Loopback media host: typed files, a typeless GIF, a 404, and bodies over the cap with and without content-length. */
async function startMediaServer(t: TestContext): Promise<MediaServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? "");
    switch (req.url) {
      case "/img/cat.png":
        res.writeHead(200, { "content-type": "image/png", "content-length": PNG.length });
        return void res.end(PNG);
      case "/files/report":
        res.writeHead(200, { "content-type": "application/pdf; qs=0.9" });
        return void res.end(PDF);
      case "/voice/note.ogg":
        res.writeHead(200, { "content-type": "audio/ogg" });
        return void res.end(OGG);
      case "/anim/dance.gif":
        res.writeHead(200, { "content-type": "application/octet-stream" });
        return void res.end(GIF);
      case "/big-declared":
        res.writeHead(200, { "content-type": "image/png", "content-length": 4 * 1024 * 1024 });
        return void res.end(Buffer.alloc(4 * 1024 * 1024));
      case "/big-streamed": {
        res.writeHead(200, { "content-type": "image/png" });
        // Chunked, no length: the loader must count and stop.
        let left = 64;
        const more = (): void => {
          while (left > 0) {
            left--;
            if (!res.write(Buffer.alloc(64 * 1024))) return void res.once("drain", more);
          }
          res.end();
        };
        res.on("error", () => undefined);
        return more();
      }
      default:
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

test("telegram send with media: photo captioned with the text, then documents and an animation by type; a text too long for a caption follows the media", async (t) => {
  const media = await startMediaServer(t);
  const dir = await mkdtemp(join(tmpdir(), "clawgate-media-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const notes = join(dir, "notes.txt");
  await writeFile(notes, "meeting notes\n");
  const s = await startChannels(t, {});
  await s.api.runner("telegram")!.supervisor!.whenRunning();
  const { client: c } = await connectOk(s.gw.url);
  t.after(() => c.close());

  const one = await c.request("send", { channel: "telegram", to: "42", message: "look at this", mediaUrl: `${media.url}/img/cat.png`, idempotencyKey: "media-1" }, 15_000);
  assert.equal(one.ok, true, JSON.stringify(one.error));
  const photo = s.fake.sent.at(-1)!;
  assert.deepEqual(photo.media, { method: "sendPhoto", fileName: "cat.png", bytes: PNG.length, sha256: sha(PNG) });
  assert.equal(photo.text, "look at this", "the text is the caption");
  assert.equal(photo.chatId, "42");
  assert.equal((one.payload as { messageId: string }).messageId, String(photo.messageId));
  assert.equal(s.fake.sent.length, 1, "no separate text message");

  // The same key again is a replay: nothing is fetched or sent twice.
  const hitsBefore = media.hits.length;
  const again = await c.request("send", { channel: "telegram", to: "42", message: "look at this", mediaUrl: `${media.url}/img/cat.png`, idempotencyKey: "media-1" });
  assert.deepEqual(again.payload, one.payload);
  assert.equal(media.hits.length, hitsBefore);
  assert.equal(s.fake.sent.length, 1);

  // mediaUrl first, then mediaUrls in order (duplicates once); only the first is captioned.
  const many = await c.request(
    "send",
    { channel: "telegram", to: "42", message: "the files", mediaUrl: `${media.url}/files/report`, mediaUrls: [`${media.url}/files/report`, notes, `${media.url}/anim/dance.gif`], idempotencyKey: "media-2" },
    15_000,
  );
  assert.equal(many.ok, true, JSON.stringify(many.error));
  const [pdf, txt, gif] = s.fake.sent.slice(1);
  assert.deepEqual(pdf!.media, { method: "sendDocument", fileName: "report", bytes: PDF.length, sha256: sha(PDF) });
  assert.equal(pdf!.text, "the files");
  assert.deepEqual(txt!.media, { method: "sendDocument", fileName: "notes.txt", bytes: 14, sha256: sha(Buffer.from("meeting notes\n")) });
  assert.equal(txt!.text, "");
  assert.equal(gif!.media?.method, "sendAnimation", "a GIF served as octet-stream is known by its bytes");
  assert.equal(gif!.media?.sha256, sha(GIF));
  assert.equal(s.fake.sent.length, 4);
  assert.equal((many.payload as { messageId: string }).messageId, String(gif!.messageId), "the result is the last message's");

  // Over Telegram's 1024-character caption limit: the photo goes bare, the text after it.
  const long = "x".repeat(1500);
  const big = await c.request("send", { channel: "telegram", to: "42", message: long, mediaUrls: [`${media.url}/img/cat.png`], idempotencyKey: "media-3" }, 15_000);
  assert.equal(big.ok, true, JSON.stringify(big.error));
  const [bare, text] = s.fake.sent.slice(4);
  assert.equal(bare!.media?.method, "sendPhoto");
  assert.equal(bare!.text, "");
  assert.equal(text!.media, undefined);
  assert.equal(text!.text, long);
});

test("telegram send with media: bad references are INVALID_REQUEST (a corrected retry under the key sends); unloadable or oversized media fail with nothing delivered", async (t) => {
  const media = await startMediaServer(t);
  const s = await startChannels(t, { mediaMaxMb: 1 });
  await s.api.runner("telegram")!.supervisor!.whenRunning();
  const { client: c } = await connectOk(s.gw.url);
  t.after(() => c.close());
  const send = (key: string, extra: Record<string, unknown>) => c.request("send", { channel: "telegram", to: "42", message: "hi", idempotencyKey: key, ...extra }, 15_000);

  for (const [ref, why] of [
    ["cat.png", /http\(s\) URL or an absolute file path/],
    ["ftp://127.0.0.1/cat.png", /unsupported media URL scheme ftp:/],
    ["http://user:pw@127.0.0.1/cat.png", /user:password are not supported/],
  ] as const) {
    const r = await send("bad-1", { mediaUrl: ref });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "INVALID_REQUEST");
    assert.match(r.error?.message ?? "", why);
  }
  const tooMany = await send("bad-1", { mediaUrls: Array.from({ length: 11 }, (_, i) => `${media.url}/img/${i}.png`) });
  assert.equal(tooMany.error?.code, "INVALID_REQUEST");
  assert.match(tooMany.error?.message ?? "", /at most 10 media/);
  assert.equal(s.fake.sent.length, 0);
  const fixed = await send("bad-1", { mediaUrl: `${media.url}/img/cat.png` });
  assert.equal(fixed.ok, true, "nothing was recorded under the key by the refused calls");
  assert.equal(s.fake.sent.length, 1);

  for (const [key, ref, why] of [
    ["fail-404", `${media.url}/nope.png?sig=SECRET123`, /cannot fetch media http:\/\/127\.0\.0\.1:\d+\/nope\.png\?…: HTTP 404/],
    ["fail-declared", `${media.url}/big-declared`, /media larger than 1 MB/],
    ["fail-streamed", `${media.url}/big-streamed`, /media larger than 1 MB/],
    ["fail-missing-file", "/nonexistent/dir/cat.png", /cannot read media .*ENOENT/],
    ["fail-directory", "/tmp", /not a regular file/],
  ] as const) {
    const r = await send(key, { mediaUrl: ref });
    assert.equal(r.ok, false, key);
    assert.equal(r.error?.code, "UNAVAILABLE", key);
    assert.match(r.error?.message ?? "", why, key);
    assert.doesNotMatch(r.error?.message ?? "", /SECRET123/, "a URL's query (signed URLs' credentials) never reaches the error");
    // Cached like every send outcome (§3.4 step 6): the same key answers the same error.
    const replay = await send(key, { mediaUrl: ref });
    assert.deepEqual([replay.error?.code, replay.error?.message], [r.error?.code, r.error?.message], key);
  }
  assert.equal(s.fake.sent.length, 1, "no failed send delivered anything (not even its text)");
});

test("whatsapp send with media: image with the caption, a document with its file name, a voice note with its text after it, the same bytes on the socket", async (t) => {
  const media = await startMediaServer(t);
  const { h, fake, api } = await startWhatsAppGateway(t, { linked: true });
  await fake.sockets(1);
  fake.send({ op: "open", user: { id: SELF_JID } });
  await until(() => api.snapshots().whatsapp?.[0]?.connected === true, "whatsapp connected");
  const c = await h.connect();
  const r = await c.request("send", { channel: "whatsapp", to: "+15550001111", message: "photo + report", mediaUrls: [`${media.url}/img/cat.png`, `${media.url}/files/report`], idempotencyKey: "wa-media-1" }, 15_000);
  assert.equal(r.ok, true, JSON.stringify(r.error));
  await fake.waitFor(() => fake.of("send").length >= 2, "both media on the socket");
  const [img, doc] = fake.of("send");
  assert.equal(img!.jid, "15550001111@s.whatsapp.net");
  assert.deepEqual(img!.media, { field: "image", sha256: sha(PNG), bytes: PNG.length, mimetype: "image/png" });
  assert.equal(img!.text, "photo + report");
  assert.deepEqual(doc!.media, { field: "document", sha256: sha(PDF), bytes: PDF.length, mimetype: "application/pdf", fileName: "report" });
  assert.equal(doc!.text, "");
  assert.equal((r.payload as { messageId: string }).messageId, doc!.id);

  // Audio carries no caption on WhatsApp: a voice note, then the text as its own message.
  const v = await c.request("send", { channel: "whatsapp", to: "+15550001111", message: "listen", mediaUrl: `${media.url}/voice/note.ogg`, idempotencyKey: "wa-media-2" }, 15_000);
  assert.equal(v.ok, true, JSON.stringify(v.error));
  await fake.waitFor(() => fake.of("send").length >= 4, "the voice note and its text");
  const [voice, text] = fake.of("send").slice(2);
  assert.deepEqual(voice!.media, { field: "audio", sha256: sha(OGG), bytes: OGG.length, mimetype: "audio/ogg; codecs=opus", ptt: true });
  assert.equal(text!.text, "listen");
  assert.equal(text!.media, undefined);
});

test("reply MEDIA: lines: only http(s) media on public addresses by default (a loopback URL is never fetched, a local path never read); mediaAllowPrivateNetwork admits a LAN host", async (t) => {
  const media = await startMediaServer(t);
  const reply = `here it is\nMEDIA:${media.url}/img/cat.png\nMEDIA:/etc/passwd`;
  const handler = async () => ({ replyText: reply });

  const strict = await startChannels(t, { dmPolicy: "open" }, { handler });
  strict.fake.push(TOKEN, { chatId: 42, fromId: 42, text: "show me" });
  await strict.fake.waitSent(1);
  await until(() => strict.api.snapshots().telegram?.[0]?.queueDepth === 0, "the message done");
  assert.deepEqual(strict.fake.sent.map((m) => [m.text, m.media?.method]), [["here it is", undefined]], "the text without its directive lines; no media");
  assert.deepEqual(media.hits, [], "the loopback URL was refused before any request");

  const lan = await startChannels(t, { dmPolicy: "open", mediaAllowPrivateNetwork: true }, { handler });
  lan.fake.push(TOKEN, { chatId: 42, fromId: 42, text: "show me" });
  await lan.fake.waitSent(2);
  await until(() => lan.api.snapshots().telegram?.[0]?.queueDepth === 0, "the message done");
  assert.deepEqual(lan.fake.sent.map((m) => [m.text, m.media?.method]), [["here it is", undefined], ["", "sendPhoto"]]);
  assert.equal(lan.fake.sent[1]!.media?.sha256, sha(PNG));
  assert.equal(lan.fake.sent.length, 2, "the local path was not sent");
});

test("public-only fetch: private, loopback, link-local, mapped and NAT64 addresses are refused; public ones are not", async () => {
  for (const a of ["127.0.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "not-an-ip"]) {
    assert.equal(isPrivateAddress(a), true, a);
  }
  for (const a of ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"]) assert.equal(isPrivateAddress(a), false, a);
  const { text, mediaUrls } = splitMediaDirectives("a\nMEDIA: https://x.example/1.png\n\n\nb\n  MEDIA:https://x.example/1.png  \nnot MEDIA:inline");
  assert.equal(text, "a\n\nb\nnot MEDIA:inline");
  assert.deepEqual(mediaUrls, ["https://x.example/1.png"]);
});
