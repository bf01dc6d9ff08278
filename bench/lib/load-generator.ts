/**
 * Load-generator process (forked by `LoadGenerators`): steady pipelined RPC load or
 * a connect/close handshake loop against one gateway URL. See load-protocol.ts.
 *
 * RPC hot path per socket chunk: parse frames (views), count `res` frames by a byte-prefix
 * check, then send as many new requests as answers arrived with ONE write of a slice of a
 * pre-built, pre-masked ring of request frames. Nothing is JSON-parsed or allocated per request.
 */
import { GatewayConnection, parseWsUrl, upgradeRequest, type WsTarget } from "./raw-ws.js";
import { OP_BINARY, OP_TEXT, isOkRes, isResFrame, maskedText } from "../../test/helpers/ws-frames.js";
import { deviceConnectFrame, generateDevices, tokenConnectFrame } from "./connect-frames.js";
import type { FromGenerator, HandshakeSetup, RpcSetup, ToGenerator } from "./load-protocol.js";

interface Load {
  run(): void;
  counts(): { completed: number; errors: number; lastError?: string };
  stop(): Promise<void>;
  close(): Promise<void>;
}

function send(msg: FromGenerator): void {
  process.send?.(msg);
}

/**
 * `depth` distinct request frames (ids b0000…), laid out twice in a row so that any run of
 * up to `depth` consecutive frames starting in the first copy is one contiguous slice.
 */
function requestRing(method: string, params: unknown, depth: number): { ring: Buffer; frameLen: number } {
  const frames: Buffer[] = [];
  for (let i = 0; i < depth; i++) {
    const id = `b${String(i).padStart(4, "0")}`;
    frames.push(maskedText(JSON.stringify(params === undefined ? { type: "req", id, method } : { type: "req", id, method, params })));
  }
  const frameLen = frames[0]?.length ?? 0;
  if (frames.some((f) => f.length !== frameLen)) throw new Error("request frames differ in length");
  return { ring: Buffer.concat([...frames, ...frames]), frameLen };
}

class PipelinedConnection {
  inflight = 0;
  completed = 0;
  errors = 0;
  running = false;
  private due = 0;
  private cursor = 0;
  private drained: (() => void) | null = null;

  constructor(
    readonly conn: GatewayConnection,
    private readonly ring: Buffer,
    private readonly frameLen: number,
    private readonly depth: number,
    onLost: (err: string) => void,
  ) {
    conn.onFrame = (op, _fin, data) => {
      if ((op !== OP_TEXT && op !== OP_BINARY) || !isResFrame(data)) return;
      this.inflight--;
      if (isOkRes(data)) this.completed++;
      else this.errors++;
      if (this.running) this.due++;
      else if (this.inflight === 0) this.drained?.();
    };
    conn.afterChunk = () => {
      if (this.due > 0) this.write(this.due);
    };
    conn.onClosed = (err) => {
      if (this.running || this.inflight > 0) onLost(`connection lost under load${err ? `: ${err.message}` : ""}`);
      this.drained?.();
    };
  }

  private write(n: number): void {
    const start = this.cursor * this.frameLen;
    this.conn.socket.write(this.ring.subarray(start, start + n * this.frameLen));
    this.cursor = (this.cursor + n) % this.depth;
    this.inflight += n;
    this.due = 0;
  }

  start(): void {
    this.running = true;
    this.write(this.depth - this.inflight);
  }

  stop(): Promise<void> {
    this.running = false;
    this.due = 0;
    if (this.inflight === 0 || !this.conn.ready) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = () => {
        this.drained = null;
        resolve();
      };
    });
  }
}

async function rpcLoad(s: RpcSetup): Promise<Load> {
  const target = parseWsUrl(s.url);
  const upgrade = upgradeRequest(target);
  const connectFrame = tokenConnectFrame(s.client, s.token);
  const { ring, frameLen } = requestRing(s.method, s.params, s.depth);
  let lastError: string | undefined;
  const conns = await Promise.all(
    Array.from({ length: s.conns }, () => GatewayConnection.open(target, { upgrade, connectFrame, timeoutMs: s.timeoutMs })),
  );
  const pipes = conns.map(
    (c) =>
      new PipelinedConnection(c, ring, frameLen, s.depth, (e) => {
        lastError = e;
        send({ type: "fatal", message: e });
      }),
  );
  return {
    run: () => pipes.forEach((p) => p.start()),
    counts: () => ({
      completed: pipes.reduce((a, p) => a + p.completed, 0),
      errors: pipes.reduce((a, p) => a + p.errors, 0),
      lastError,
    }),
    stop: async () => {
      await Promise.all(pipes.map((p) => p.stop()));
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.close(1000)));
    },
  };
}

function handshakeLoad(s: HandshakeSetup): Load {
  const target: WsTarget = parseWsUrl(s.url);
  const upgrade = upgradeRequest(target);
  const connectFrame =
    s.auth === "device" ? deviceConnectFrame(s.client, s.token, generateDevices(s.devices)) : tokenConnectFrame(s.client, s.token);
  let running = false;
  let completed = 0;
  let errors = 0;
  let lastError: string | undefined;
  let workers: Promise<void>[] = [];

  const connector = async (): Promise<void> => {
    while (running) {
      try {
        const c = await GatewayConnection.open(target, { upgrade, connectFrame, timeoutMs: s.timeoutMs });
        completed++;
        await c.close(s.timeoutMs);
      } catch (err) {
        errors++;
        lastError = (err as Error).message;
        // Do not spin on a refusing server.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  return {
    run: () => {
      running = true;
      workers = Array.from({ length: s.concurrency }, () => connector());
    },
    counts: () => ({ completed, errors, lastError }),
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
    close: async () => {},
  };
}

let load: Load | null = null;

async function onMessage(msg: ToGenerator): Promise<void> {
  switch (msg.type) {
    case "rpc-setup":
      load = await rpcLoad(msg);
      send({ type: "ready" });
      return;
    case "handshake-setup":
      load = handshakeLoad(msg);
      send({ type: "ready" });
      return;
    case "run":
      load?.run();
      return;
    case "mark": {
      const c = load?.counts() ?? { completed: 0, errors: 0 };
      send({ type: "mark", seq: msg.seq, ...c });
      return;
    }
    case "stop": {
      await load?.stop();
      const c = load?.counts() ?? { completed: 0, errors: 0 };
      send({ type: "stopped", ...c });
      return;
    }
    case "exit":
      await load?.close();
      process.exit(0);
      return;
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

process.on("message", (msg: ToGenerator) => {
  onMessage(msg).catch((err: unknown) => {
    send({ type: "fatal", message: err instanceof Error ? err.message : String(err) });
  });
});
// The parent went away (crash, kill): never linger as an orphan load source.
process.on("disconnect", () => process.exit(0));
