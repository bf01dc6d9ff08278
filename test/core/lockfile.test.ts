// `npm ci` refuses a lockfile that lacks any package the manifest can pull in, including
// optional platform binaries for other operating systems. This checks the lockfile offline:
// every dependency and optional dependency of every locked package (and of the root
// manifest) must resolve, by node_modules lookup, to a locked entry.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  link?: boolean;
}

const root = new URL("../..", import.meta.url);
const lock = JSON.parse(readFileSync(new URL("package-lock.json", root), "utf8")) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as LockEntry & { name: string; version: string };

/** node_modules resolution: look in the package's own node_modules, then each ancestor's. */
function resolve(fromPath: string, name: string): string | undefined {
  let base = fromPath;
  for (;;) {
    const candidate = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === "") return undefined;
    const cut = base.lastIndexOf("/node_modules/");
    base = cut < 0 ? "" : base.slice(0, cut);
  }
}

test("lockfile is version 3 and its root matches package.json", () => {
  assert.equal(lock.lockfileVersion, 3);
  const rootEntry = lock.packages[""];
  assert.ok(rootEntry, "lockfile has a root entry");
  for (const field of ["dependencies", "optionalDependencies", "devDependencies"] as const) {
    assert.deepEqual(rootEntry[field] ?? {}, manifest[field] ?? {}, `root ${field} match package.json`);
  }
});

test("every dependency of every locked package is locked (npm ci would refuse otherwise)", () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (entry.link) continue;
    const wanted = { ...entry.dependencies, ...entry.optionalDependencies, ...(path === "" ? entry.devDependencies : {}) };
    for (const name of Object.keys(wanted)) {
      if (resolve(path, name) === undefined) missing.push(`${path || "<root>"} -> ${name}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("manifest dependencies are pinned to exact versions", () => {
  const loose: string[] = [];
  for (const field of ["dependencies", "optionalDependencies", "devDependencies"] as const) {
    for (const [name, spec] of Object.entries(manifest[field] ?? {})) {
      const version = spec.startsWith("npm:") ? spec.slice(spec.lastIndexOf("@") + 1) : spec;
      if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) loose.push(`${name}@${spec}`);
    }
  }
  assert.deepEqual(loose, []);
});
