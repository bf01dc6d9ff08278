/**
 * Shared by the code generators (`protocol-gen.ts`, `config-gen.ts`): turns JSON Schemas
 * into AJV standalone ESM validators, so the gateway never compiles a schema at run time.
 *
 * ajv's standalone ESM output still contains `require()` calls for its runtime helpers
 * (ajv issue #2209); they are hoisted into ESM default imports here, which keeps the
 * exact CommonJS `module.exports` semantics the generated code expects.
 */
import Ajv from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";

/** A JSON Schema as plain data. */
export type Json = Record<string, unknown>;

/** A deep plain-JSON copy of a TypeBox schema (drops its symbol-keyed metadata). */
export function toJson(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema)) as Json;
}

function hoistRequires(code: string): string {
  const imports = new Map<string, string>();
  const body = code.replace(/require\("([^"]+)"\)/g, (_m, spec: string) => {
    let id = imports.get(spec);
    if (!id) {
      id = `__ajvRuntime${imports.size}`;
      imports.set(spec, id);
    }
    return id;
  });
  const lines = [...imports].map(([spec, id]) => {
    const file = spec.endsWith(".js") ? spec : `${spec}.js`;
    return `import ${id} from ${JSON.stringify(file)};`;
  });
  return `${lines.join("\n")}\n${body}`;
}

/**
 * ESM source exporting `validate<Name>` for every schema (AJV, non-strict), prefixed with
 * `header`. `allErrors` (default true, what the protocol validators report) can be turned
 * off for a check-only validator: it stops at the first failure and is much smaller.
 */
export function renderValidators(schemas: Record<string, Json>, header: string, opts: { allErrors?: boolean } = {}): string {
  const ajv = new Ajv.default({
    allErrors: opts.allErrors ?? true,
    strict: false,
    removeAdditional: false,
    code: { source: true, esm: true, lines: true },
  });
  const exportMap: Record<string, string> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    ajv.addSchema({ ...schema, $id: name });
    exportMap[`validate${name}`] = name;
  }
  const code = hoistRequires(standaloneCode.default(ajv, exportMap));
  return `${header}// @ts-nocheck\n/* eslint-disable */\n${code}`;
}

/**
 * Writes `files` into `outDir`, or with `--check` compares them with the committed ones and
 * exits 1 naming the stale files. `command` is what the operator runs to regenerate.
 */
export async function writeOrCheck(outDir: string, files: Record<string, string>, command: string): Promise<void> {
  const check = process.argv.includes("--check");
  const label = command.replace(/^npm run /, "");
  const stale: string[] = [];
  await mkdir(outDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const path = join(outDir, name);
    if (check) {
      const current = await readFile(path, "utf8").catch(() => "");
      if (current !== text) stale.push(name);
    } else {
      await writeFile(path, text);
    }
  }
  if (check && stale.length > 0) {
    console.error(`${label}: stale generated files: ${stale.join(", ")} — run '${command}' and commit the result`);
    process.exit(1);
  }
  console.log(check ? `${label}: generated files are fresh` : `${label}: wrote ${Object.keys(files).join(", ")}`);
}
