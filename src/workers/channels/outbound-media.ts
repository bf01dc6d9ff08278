/**
 * Media for outbound sends (`send` `mediaUrl` / `mediaUrls`, §3.4): loads one reference into
 * memory inside the channel worker, bounded, and says what kind of message carries it.
 *
 * A reference is an `http:`/`https:` URL (fetched with a deadline; redirects followed by
 * fetch) or a local file (`file:` URL or absolute path; regular files only), as the
 * reference's `--media <path-or-url>`. An untrusted reference (a model's `MEDIA:` line) is
 * only ever an http(s) URL on a public address. Both are capped at `maxBytes` before anything is
 * sent: a `content-length` over the cap is refused before the body is read, and a body
 * without one is counted as it streams. The MIME type comes from the response's
 * `content-type`, else from the bytes' signature, else from the file name's extension.
 */
import { open } from "node:fs/promises";
import { basename, extname, isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { publicGet } from "./public-fetch.js";

/** How a platform carries the media (Telegram method / WhatsApp message field). */
export type MediaKind = "image" | "animation" | "video" | "audio" | "voice" | "document";

export interface LoadedMedia {
  data: Buffer;
  mime: string;
  fileName: string;
  kind: MediaKind;
}

/** Default deadline of a URL fetch, headers and body together. */
export const MEDIA_FETCH_TIMEOUT_MS = 20_000;

/** A reference `loadOutboundMedia` accepts: http(s) URL, file: URL or absolute path. */
export function mediaRefProblem(ref: string): string | null {
  if (ref.trim() === "") return "empty media reference";
  if (isAbsolute(ref)) return null;
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    return `media must be an http(s) URL or an absolute file path: ${ref}`;
  }
  if (url.username !== "" || url.password !== "") return "media URLs with user:password are not supported (fetch refuses them)";
  if (url.protocol === "http:" || url.protocol === "https:" || url.protocol === "file:") return null;
  return `unsupported media URL scheme ${url.protocol} (http, https, file or an absolute path)`;
}

/** Where a reference came from: the operator (`send`), or a model's reply (`MEDIA:` lines). */
export interface MediaLoadOptions {
  /**
   * A model chose the reference (a chat message can steer it): only http(s) URLs on public
   * addresses (`public-fetch.ts`), never local files. Default false.
   */
  untrusted?: boolean;
  /** Untrusted URLs may reach private addresses too (`mediaAllowPrivateNetwork`, for a LAN media host). Default false. */
  allowPrivateNetwork?: boolean;
  timeoutMs?: number;
}

/** Loads `ref` (at most `maxBytes`); rejects with a message that names the reference. */
export async function loadOutboundMedia(ref: string, maxBytes: number, o: MediaLoadOptions = {}): Promise<LoadedMedia> {
  const problem = mediaRefProblem(ref);
  if (problem) throw new Error(problem);
  const isFile = isAbsolute(ref) || ref.startsWith("file:");
  if (isFile && o.untrusted === true) throw new Error(`media from a reply must be an http(s) URL, not a local file: ${ref}`);
  const timeoutMs = o.timeoutMs ?? MEDIA_FETCH_TIMEOUT_MS;
  const loaded = isFile
    ? await readLocal(isAbsolute(ref) ? ref : fileURLToPath(ref), maxBytes)
    : o.untrusted === true && o.allowPrivateNetwork !== true
      ? await fetchPublic(ref, maxBytes, timeoutMs)
      : await fetchRemote(ref, maxBytes, timeoutMs);
  const mime = loaded.mime ?? sniffMime(loaded.data) ?? mimeFromName(loaded.fileName) ?? "application/octet-stream";
  return { data: loaded.data, mime, fileName: loaded.fileName, kind: mediaKind(mime) };
}

/** Which message kind carries `mime`. */
export function mediaKind(mime: string): MediaKind {
  if (mime === "image/gif") return "animation";
  if (mime === "image/jpeg" || mime === "image/png" || mime === "image/webp") return "image";
  if (mime.startsWith("video/")) return "video";
  if (mime === "audio/ogg" || mime === "audio/opus") return "voice";
  if (mime.startsWith("audio/")) return "audio";
  return "document";
}

interface Raw {
  data: Buffer;
  mime: string | undefined;
  fileName: string;
}

const tooBig = (ref: string, maxBytes: number): Error => new Error(`media larger than ${Math.round(maxBytes / 1024 / 1024)} MB: ${ref}`);

async function readLocal(path: string, maxBytes: number): Promise<Raw> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw new Error(`cannot read media ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error(`media is not a regular file: ${path}`);
    if (st.size > maxBytes) throw tooBig(path, maxBytes);
    // Read at most one byte past the cap: a file that grew since the stat is still bounded.
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > maxBytes) throw tooBig(path, maxBytes);
      if (n === buf.length) break;
    }
    return { data: buf.subarray(0, n), mime: undefined, fileName: basename(path) };
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function fetchRemote(ref: string, maxBytes: number, timeoutMs: number): Promise<Raw> {
  const shown = shownUrl(ref);
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(ref, { signal, redirect: "follow" });
  } catch (err) {
    throw new Error(`cannot fetch media ${shown}: ${signal.aborted ? `no answer within ${timeoutMs} ms` : describe(err).split(ref).join(shown)}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`cannot fetch media ${shown}: HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw tooBig(shown, maxBytes);
  }
  let data: Buffer;
  try {
    data = await readCapped((res.body ?? []) as AsyncIterable<Uint8Array>, shown, maxBytes);
  } catch (err) {
    await res.body?.cancel().catch(() => undefined);
    throw bodyError(err, shown, signal, timeoutMs);
  }
  return { data, mime: mimeOfHeader(res.headers.get("content-type")), fileName: urlFileName(res.url || ref) };
}

/** `fetchRemote` for an untrusted reference: public addresses only (`public-fetch.ts`). */
async function fetchPublic(ref: string, maxBytes: number, timeoutMs: number): Promise<Raw> {
  const shown = shownUrl(ref);
  const signal = AbortSignal.timeout(timeoutMs);
  let got;
  try {
    got = await publicGet(ref, signal);
  } catch (err) {
    throw new Error(`cannot fetch media ${shown}: ${signal.aborted ? `no answer within ${timeoutMs} ms` : describe(err).split(ref).join(shown)}`);
  }
  const { res, url } = got;
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    res.destroy();
    throw new Error(`cannot fetch media ${shown}: HTTP ${status}`);
  }
  if (Number(res.headers["content-length"] ?? Number.NaN) > maxBytes) {
    res.destroy();
    throw tooBig(shown, maxBytes);
  }
  let data: Buffer;
  try {
    data = await readCapped(res, shown, maxBytes);
  } catch (err) {
    res.destroy();
    throw bodyError(err, shown, signal, timeoutMs);
  }
  return { data, mime: mimeOfHeader(res.headers["content-type"]), fileName: urlFileName(url) };
}

/** The body, refused as soon as it passes `maxBytes`. */
async function readCapped(body: AsyncIterable<Uint8Array>, shown: string, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooBig(shown, maxBytes);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(parts, total);
}

function bodyError(err: unknown, shown: string, signal: AbortSignal, timeoutMs: number): Error {
  if (err instanceof Error && err.message.startsWith("media larger")) return err;
  if (signal.aborted) return new Error(`cannot fetch media ${shown}: no answer within ${timeoutMs} ms`);
  return new Error(`cannot fetch media ${shown}: ${describe(err)}`);
}

/** A `content-type` worth keeping (octet-stream says nothing: the bytes decide). */
function mimeOfHeader(header: string | null | undefined): string | undefined {
  const type = header?.split(";")[0]?.trim().toLowerCase();
  return type && type !== "application/octet-stream" ? type : undefined;
}

/**
 * A URL as errors (answered to the caller, logged) show it: no user:password, no query or
 * fragment (signed URLs carry their credentials there).
 */
export function shownUrl(ref: string): string {
  try {
    const u = new URL(ref);
    return `${u.protocol}//${u.host}${u.pathname}${u.search !== "" || u.hash !== "" ? "?…" : ""}`;
  } catch {
    return ref.length > 200 ? `${ref.slice(0, 200)}…` : ref;
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
}

function urlFileName(ref: string): string {
  try {
    const name = decodeURIComponent(basename(new URL(ref).pathname));
    return name || "file";
  } catch {
    return "file";
  }
}

/** MIME type from the first bytes of common formats. */
export function sniffMime(b: Buffer): string | undefined {
  const at = (i: number, s: string): boolean => b.length >= i + s.length && b.toString("latin1", i, i + s.length) === s;
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (at(0, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (at(0, "GIF87a") || at(0, "GIF89a")) return "image/gif";
  if (at(0, "RIFF") && at(8, "WEBP")) return "image/webp";
  if (at(0, "%PDF-")) return "application/pdf";
  if (at(0, "OggS")) return "audio/ogg";
  if (at(4, "ftyp")) return "video/mp4";
  if (at(0, "ID3") || (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)) return "audio/mpeg";
  return undefined;
}

const BY_EXTENSION: Readonly<Record<string, string>> = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".mp4": "video/mp4",
  ".mov": "video/quicktime",
  ".webm": "video/webm",
  ".mp3": "audio/mpeg",
  ".m4a": "audio/mp4",
  ".ogg": "audio/ogg",
  ".opus": "audio/opus",
  ".pdf": "application/pdf",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".json": "application/json",
  ".zip": "application/zip",
};

function mimeFromName(name: string): string | undefined {
  return BY_EXTENSION[extname(name).toLowerCase()];
}
