/**
 * Resolved runtime settings of one gateway instance (what the config file, env and
 * CLI flags boil down to). Fields marked "hot" are read live on every use, so a config
 * reload that replaces `GatewayContext.options` takes effect without a restart.
 */
import type { ClusterOptions } from "./cluster/cluster-options.js";
import type { ResolvedAuth } from "./auth/shared-auth.js";
import type { AuthThrottleOptions } from "./auth/auth-throttle.js";
import type { ResolvedHooks } from "./hooks/hooks-config.js";
import type { AgentRuntimeConfig } from "../workers/agent/agent-config.js";

export interface PolicyLimits {
  /** Largest inbound frame in bytes; larger frames close the socket with 1009. Default 524288. */
  maxPayload: number;
  /** Buffered bytes past which a client is a slow consumer. Default 1572864. */
  maxBufferedBytes: number;
  /** Interval of `tick` events in ms. Default 30000. */
  tickIntervalMs: number;
}

export interface GatewayOptions {
  /** Address to bind. Default "127.0.0.1". */
  host: string;
  /** Port to bind; 0 picks a free one. Default 18789. */
  port: number;
  /** Shared auth (hot). */
  auth: ResolvedAuth;
  /** State directory (pairing, sessions…). */
  stateDir: string;
  /** Resolved config file path (reported in hello-ok). */
  configPath: string;
  /** Limits advertised in hello-ok.policy and enforced (maxPayload needs a restart). */
  policy: PolicyLimits;
  /** Handshake deadline in ms. Default 10000. */
  handshakeTimeoutMs: number;
  /**
   * Unauthenticated sockets per client address, IPv6 per /64 (hot); over it the address's
   * oldest is evicted. Default 1024.
   */
  preAuthMaxPerIp: number;
  /** Unauthenticated sockets in total (hot); over it the oldest is evicted. Default 4096. */
  preAuthMaxTotal?: number;
  /** Presence entries kept (hot). Default 200. */
  presenceMaxEntries: number;
  /** Control UI settings (hot). */
  controlUi: { enabled: boolean; basePath: string; allowInsecureAuth: boolean; allowedOrigins: string[] };
  /** Peers whose X-Forwarded-For / X-Real-IP are trusted (hot). Default []. */
  trustedProxies: string[];
  /** Node command policy (hot). */
  nodes: { allowCommands: string[]; denyCommands: string[] };
  /** Canvas host URL advertised in hello-ok, when the canvas host runs. */
  canvasHostPort: number | null;
  /** Version reported in hello-ok.server.version. */
  version: string;
  /** Commit reported in hello-ok.server.commit ($GIT_COMMIT). */
  commit?: string;
  /** Health refresh interval in ms. Default 60000. */
  healthRefreshMs: number;
  /** Coalescing window of presence broadcasts in ms. Default 100. */
  presenceBroadcastWindowMs: number;
  /**
   * A client whose send backlog stays over `policy.maxBufferedBytes` without draining
   * for this long is closed 1008 (hot). Default 30000.
   */
  stuckReaderMs?: number;
  /** `gateway.tls`: serve wss:// (needs a restart). Default: disabled. */
  /**
   * Loopback auth throttle timings (tests; not a config key). Default: 250 ms doubling to
   * 5 s, 16 waiting attempts (see auth/auth-throttle.ts).
   */
  authThrottle?: AuthThrottleOptions;
  tls?: GatewayTlsOptions;
  /**
   * File `logs.tail` reads (`logging.file`, absolute). Default: today's rolling file
   * `/tmp/clawdbot/clawdbot-YYYY-MM-DD.log` (see `resolveLogTailFile`).
   */
  logFile?: string;
  /**
   * The config sections agent runs read (`agents`, `models`, `tools`, `session`, `ui`), as
   * loaded (reload kind "none": read at each run). Default: none (no model configured).
   */
  agentConfig?: Record<string, unknown>;
  /** `gateway.http.endpoints.{chatCompletions,responses}.enabled` (hot). Default both off. */
  httpEndpoints?: { chatCompletions: boolean; responses: boolean; responsesMaxBodyBytes?: number };
  /** `gateway.metrics` (hot): `GET /metrics`, bearer-protected unless public. Default `{enabled: true, public: false}`. */
  metrics?: { enabled: boolean; public: boolean };
  /** `hooks` (hot, §7.2), resolved by `resolveHooksConfig`. Default disabled. */
  hooks?: ResolvedHooks;
  /** Agent tool policy and workspace (`agents`, `tools`), for `POST /tools/invoke` (hot). Default `{}`. */
  agentRuntime?: AgentRuntimeConfig;
  /** `gateway.cluster` (restart): join a NATS cluster (docs/cluster.md). Default: none, a single gateway. */
  cluster?: ClusterOptions;
}

export const DEFAULT_POLICY: PolicyLimits = { maxPayload: 524_288, maxBufferedBytes: 1_572_864, tickIntervalMs: 30_000 };

/** Resolved `gateway.tls` settings. */
export interface GatewayTlsOptions {
  /** Serve wss:// (https for HTTP routes). */
  enabled: boolean;
  /** Create a self-signed pair under the state dir when no cert is configured or stored. Default true. */
  autoGenerate: boolean;
  /** PEM certificate (chain) file; with keyPath. */
  certPath?: string;
  /** PEM private key file; with certPath. */
  keyPath?: string;
  /** PEM intermediate certificates appended to the served chain. */
  caPath?: string;
}
