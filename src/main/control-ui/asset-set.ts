/**
 * A directory of built browser assets held in memory (the Control UI and the A2UI page).
 *
 * Read once, lazily: nothing is touched at gateway start; the first request reads the whole
 * directory (a few files, < 1 MiB) and every later request is a map lookup, so a request
 * never reaches the filesystem and no request path can name a file outside the set. The
 * lexical path gate of the canvas host (`toSafeSegments`) still runs first, so `..`,
 * encoded dots, backslashes and NULs are 404s rather than SPA fallbacks.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { contentTypeFor } from "../../workers/canvas/content-types.js";

/** One asset. */
export interface Asset {
  contentType: string;
  body: Buffer;
}

/** Bounds on what is loaded (a build output is a handful of small files). */
const MAX_FILES = 256;
const MAX_TOTAL_BYTES = 16 * 1024 * 1024;

/** The repository root (where package.json is), from this file under tsx (src/) or tsc (dist/src/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

async function walk(root: string, dir: string, out: Map<string, Asset>, budget: { bytes: number }): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walk(root, full, out, budget);
    } else if (entry.isFile()) {
      if (out.size >= MAX_FILES) throw new Error(`too many files in ${root}`);
      const size = (await stat(full)).size;
      budget.bytes += size;
      if (budget.bytes > MAX_TOTAL_BYTES) throw new Error(`assets in ${root} exceed ${MAX_TOTAL_BYTES} bytes`);
      out.set(relative(root, full).split(sep).join("/"), { contentType: contentTypeFor(full), body: await readFile(full) });
    }
  }
}

/**
 * The assets of `dir` by root-relative path (`index.html`, `assets/app.js`), loaded on the
 * first `get()`. Resolves to null when the directory or its `index.html` is missing (the
 * caller answers 503); a failed read is retried on the next request.
 */
export class AssetSet {
  #loading: Promise<ReadonlyMap<string, Asset> | null> | null = null;

  constructor(readonly dir: string) {}

  get(): Promise<ReadonlyMap<string, Asset> | null> {
    this.#loading ??= (async () => {
      if (!existsSync(join(this.dir, "index.html"))) return null;
      const out = new Map<string, Asset>();
      await walk(this.dir, this.dir, out, { bytes: 0 });
      return out;
    })();
    const p = this.#loading;
    p.then((m) => {
      if (m === null && this.#loading === p) this.#loading = null;
    }, () => {
      if (this.#loading === p) this.#loading = null;
    });
    return p;
  }
}
