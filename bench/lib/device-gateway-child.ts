/**
 * Gateway child of bench/device-handshake.ts (forked with IPC): starts the production
 * composition on 127.0.0.1 port 0 with state in `STATE_DIR`, in the commit mode given by
 * `COMMIT` — "group" (default; `hello-ok` waits for the pairing write) or "none" (answers before
 * the write, the behaviour before group commit; the bench's baseline, never a gateway option).
 * Sends `{port}` once listening; exits when the parent goes away.
 */
import pino from "pino";
import { startGateway } from "../../src/main/gateway.js";
import { handshakeCommit } from "../../src/main/handshake/handshake-commit.js";
import { testOptions } from "../../test/helpers/gateway.js";

const stateDir = process.env.STATE_DIR;
if (stateDir === undefined) throw new Error("STATE_DIR required");
handshakeCommit.waitForDisk = process.env.COMMIT !== "none";
process.on("disconnect", () => process.exit(0));
const instance = await startGateway(testOptions(stateDir), pino({ level: "silent" }));
process.send?.({ port: instance.server.port });
