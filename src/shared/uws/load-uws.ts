/**
 * Loads the native uWebSockets.js binding, refusing the pure-JS shim.
 *
 * The `uWebSockets.js` dependency (a republish of the upstream build) silently
 * falls back to a slow Node `http`-based shim when no native binary matches the
 * running Node ABI. That shim has different backpressure semantics and a
 * fraction of the throughput, so we never go through its `main` entry: we
 * require the platform binary by name. For ABIs that build lacks we try the
 * newer upstream republish (optional dependency), then fail with a message
 * that names the ABI and what to do.
 */
import { createRequire } from "node:module";
import type * as UWS from "uWebSockets.js";

export type UwsModule = typeof UWS;

const require = createRequire(import.meta.url);

function binaryName(): string {
  return `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
}

/** Candidate binaries, first match wins. */
function candidates(): string[] {
  const name = binaryName();
  return [`uWebSockets.js/binaries/${name}`, `@btc-vision/uwebsockets.js/${name}`];
}

let loaded: UwsModule | undefined;

/** Returns the native uWS module; throws a coded, actionable error when none loads. */
export function loadUws(): UwsModule {
  if (loaded) return loaded;
  const failures: string[] = [];
  for (const id of candidates()) {
    try {
      const mod = require(id) as UwsModule;
      if (typeof mod.App !== "function") throw new Error("binding has no App()");
      loaded = mod;
      return mod;
    } catch (err) {
      failures.push(`${id}: ${(err as Error).message.split("\n")[0]}`);
    }
  }
  const abi = process.versions.modules;
  throw new Error(
    `GW_ERR_UWS_NATIVE_MISSING: no native uWebSockets.js binary for node ${process.version} ` +
      `(ABI ${abi}, ${process.platform}-${process.arch}); refusing to run on the slow JS fallback. ` +
      `Use Node 20 (ABI 115) on linux/darwin x64/arm64, or install @btc-vision/uwebsockets.js ` +
      `(needs glibc >= 2.38) for newer Node versions. Tried: ${failures.join("; ")}`,
  );
}
