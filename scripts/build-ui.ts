/**
 * Builds the browser bundles served on the gateway port, with esbuild (bundled, minified,
 * one script per page, no source maps in the output):
 *
 *   <outDir>/control-ui/index.html + assets/control-ui.js   Control UI (Lit), §7.6
 *   <outDir>/a2ui/index.html + a2ui.bundle.js              A2UI renderer (@a2ui/lit), §7.7
 *
 * `npm run build` writes them under `dist/`; the tests build into a temp directory through
 * `buildUi()` (test/ui/helpers/ui-bundle.ts). The server never imports lit or @a2ui/lit: it
 * only reads these files (lazily, on the first request).
 */
import { build } from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Options of {@link buildUi}. */
export interface BuildUiOptions {
  /** Output root; `control-ui/` and `a2ui/` are created below it. */
  outDir: string;
  /** Minify the bundles. Default true. */
  minify?: boolean;
}

/** What was built (paths of the two page directories). */
export interface BuiltUi {
  controlUiDir: string;
  a2uiDir: string;
}

/** Builds both pages into `outDir`. */
export async function buildUi(opts: BuildUiOptions): Promise<BuiltUi> {
  const controlUiDir = join(opts.outDir, "control-ui");
  const a2uiDir = join(opts.outDir, "a2ui");
  await mkdir(join(controlUiDir, "assets"), { recursive: true });
  await mkdir(a2uiDir, { recursive: true });
  const common = {
    bundle: true,
    format: "iife",
    target: "es2022",
    minify: opts.minify ?? true,
    // Lit (BSD-3-Clause) and A2UI (Apache-2.0) notices stay in the shipped bundle.
    legalComments: "eof",
    logLevel: "warning",
    absWorkingDir: root,
    tsconfig: join(root, "src", "control-ui", "tsconfig.json"),
  } as const;
  await Promise.all([
    build({ ...common, entryPoints: [join(root, "src", "control-ui", "main.ts")], outfile: join(controlUiDir, "assets", "control-ui.js") }),
    build({
      ...common,
      entryPoints: [join(root, "src", "control-ui", "a2ui", "a2ui-main.ts")],
      outfile: join(a2uiDir, "a2ui.bundle.js"),
      // Optional markdown renderer of @a2ui/lit: not shipped; its dynamic import fails and
      // the renderer falls back to its built-in regex markdown.
      external: ["@a2ui/markdown-it"],
    }),
    copyFile(join(root, "src", "control-ui", "index.html"), join(controlUiDir, "index.html")),
    copyFile(join(root, "src", "control-ui", "a2ui", "index.html"), join(a2uiDir, "index.html")),
  ]);
  return { controlUiDir, a2uiDir };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2] ?? join(root, "dist");
  const started = performance.now();
  const built = await buildUi({ outDir });
  console.log(`build-ui: ${built.controlUiDir}, ${built.a2uiDir} (${Math.round(performance.now() - started)} ms)`);
}
