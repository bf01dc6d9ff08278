/**
 * Gateway child of bench/device-handshake.ts (forked with IPC): starts the production
 * composition on 127.0.0.1 port 0 with state in `STATE_DIR`, in the commit mode given by
 * `COMMIT` — "group" (default; `hello-ok` waits for the pairing write) or "none" (answers before
 * the write, the behaviour before group commit; the bench's baseline, never a gateway option).
 * With `GATEWAY_SRC=<dir>` the gateway is imported from another checkout (e.g. an older commit
 * extracted with `git archive`), whatever it does; `COMMIT` then only applies if it knows it.
 * Sends `{port}` once listening; exits when the parent goes away.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { DEFAULT_POLICY } from "../../src/main/options.js";
import type { GatewayOptions } from "../../src/main/options.js";
import type { GatewayInstance } from "../../src/main/gateway.js";
import { loopbackGatewayOptions } from "./gateway-options.js";

const stateDir = process.env.STATE_DIR;
if (stateDir === undefined) throw new Error("STATE_DIR required");
const root = resolve(process.env.GATEWAY_SRC ?? join(import.meta.dirname, "..", ".."));
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(root, rel)).href)) as T;

process.on("disconnect", () => process.exit(0));
const commitModule = join(root, "src/main/handshake/handshake-commit.ts");
if (existsSync(commitModule)) {
  const { handshakeCommit } = await load<{ handshakeCommit: { waitForDisk: boolean } }>("src/main/handshake/handshake-commit.ts");
  handshakeCommit.waitForDisk = process.env.COMMIT !== "none";
}
const { startGateway } = await load<{ startGateway: (o: GatewayOptions, log: pino.Logger) => Promise<GatewayInstance> }>("src/main/gateway.ts");
const options = loopbackGatewayOptions(stateDir, process.env.BENCH_TOKEN ?? "bench-token-0123456789abcdef", DEFAULT_POLICY);
const instance = await startGateway(options, pino({ level: "silent" }));
process.send?.({ port: instance.server.port });
