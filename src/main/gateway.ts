/**
 * Composition of one gateway instance. The CLI's `gateway run` and the tests start
 * gateways through this one function:
 *
 *   device store → uWS app → core (live options, sockets, transport, bus, presence,
 *   health, inflight) → core methods → modules in dependency order (register, start)
 *   → server (uWS callbacks, HTTP mounts, listen)
 *
 * and stop in reverse: server (shutdown event, drain, 1012) → modules → device store.
 */
import type { Logger } from "pino";
import { DevicePairingStore } from "../shared/store/device-pairing-store.js";
import { createGatewayCore } from "./gateway-core.js";
import type { GatewayExtras, GatewayModuleDef } from "./gateway-module.js";
import { HttpMountTable } from "./http/mount-table.js";
import type { HttpRouteDeps } from "./http/routes.js";
import type { GatewayContext } from "./gateway-context.js";
import { registerCoreMethods } from "./methods/index.js";
import { ModuleHost } from "./module-host.js";
import { agentsModule, AGENTS_MODULE, type AgentsModuleOptions } from "./agents/agents-module.js";
import type { AgentRuntime } from "./agents/agent-runtime.js";
import { channelsLoader, CHANNELS_MODULE, type ChannelsLoadOptions } from "./channels/channels-loader.js";
import type { ChannelsApi } from "./channels/channels-module.js";
import { hookAgentRunner } from "./hooks/hook-agent-run.js";
import { nodesModule } from "./nodes/nodes-module.js";
import { hooksModule, type HooksModuleOptions } from "./hooks/hooks-module.js";
import { toolsInvokeModule } from "./http/tools-invoke.js";
import { MethodTable } from "./router.js";
import type { Connection } from "./socket/connection.js";
import { createGatewayApp, startGatewayServer, type GatewayServer } from "./server/gateway-server.js";
import { prepareTls } from "./server/tls.js";
import { closeSharedAuthSessions, sharedAuthChanged } from "./handshake/session-auth.js";
import type { GatewayOptions } from "./options.js";
import type { HotAction } from "../shared/config/reload-plan.js";
import type { HotActionType } from "./module.js";
import type { ClusterHostLinks, ListenAddress } from "./cluster/cluster-host-links.js";

export interface GatewayInstance {
  server: GatewayServer;
  devices: DevicePairingStore;
  /** What module `name` exposes (its `api`); undefined when not loaded. */
  module<T>(name: string): T | undefined;
  /**
   * Hot reload: makes `options` live, then routes each action to the modules registered
   * for its type. Returns the action types no module handles (they take effect through
   * the live options alone).
   */
  reload(options: GatewayOptions, actions: readonly HotAction[]): Promise<HotActionType[]>;
  /** Graceful stop: `shutdown` event, 1012 closes, modules stopped, stores flushed. */
  stop(reason?: string, restartExpectedMs?: number | null): Promise<void>;
}

/** What a caller adds to the built-in modules. */
export interface GatewayDeps {
  /** Modules loaded after the built-in ones (canvas host, …), ordered by `dependsOn`. */
  modules?: readonly GatewayModuleDef[];
  /** Extra (plugin) methods; unlisted names are admin-scoped like the reference's plugin methods. */
  registerMethods?: (table: MethodTable) => void;
  /** Extra (plugin, test) HTTP entries mounted into the table. */
  http?: HttpRouteDeps;
  /** Options of the built-in agents module (pool sizing; benches swap the run plane). */
  agents?: AgentsModuleOptions;
  /**
   * What the built-in hooks module calls (heartbeat; `runAgent` replaces the agents-backed
   * isolated hook run); see docs/http.md.
   */
  hooks?: HooksModuleOptions;
  /**
   * Channels to run (`gateway run` passes this only when a channel is configured and
   * `CLAWDBOT_SKIP_CHANNELS` is unset); inbound messages start agent runs. Default: none.
   */
  channels?: ChannelsLoadOptions;
}

/**
 * Late-bound views of module APIs for what is built before registration: the hook runner
 * reads the agents runtime and the channels' delivery per call (hooks depend on neither).
 */
interface ModuleApis {
  agents: () => AgentRuntime | undefined;
  channels: () => ChannelsApi | undefined;
}

/** The modules every gateway loads, wired to each other: hooks and channels run agent turns. */
function builtInModules(deps: GatewayDeps, ctx: GatewayContext, apis: ModuleApis): GatewayModuleDef[] {
  const runAgent =
    deps.hooks?.runAgent ??
    hookAgentRunner({
      agents: apis.agents,
      systemEvents: ctx.systemEvents,
      log: ctx.log,
      requestHeartbeat: deps.hooks?.requestHeartbeat,
      deliver: () => apis.channels()?.deliver,
    });
  return [
    nodesModule(),
    agentsModule(deps.agents),
    hooksModule({ ...deps.hooks, runAgent }),
    toolsInvokeModule(),
    ...(deps.channels ? [channelsLoader(deps.channels)] : []),
  ];
}

/** The cluster modules when `gateway.cluster` is enabled; the NATS client loads only then. */
async function clusterModules(options: GatewayOptions, links: ClusterHostLinks, deps: GatewayDeps): Promise<GatewayModuleDef[]> {
  if (!options.cluster) return [];
  const { clusterModule } = await import("./cluster/cluster-module.js");
  const { clusterRpcModule } = await import("./cluster/cluster-rpc-module.js");
  const { clusterMembersModule } = await import("./cluster/cluster-members-module.js");
  const { clusterNodesModule } = await import("./cluster/cluster-nodes-module.js");
  const { clusterPresenceModule } = await import("./cluster/cluster-presence-module.js");
  const { clusterEventsModule } = await import("./cluster/cluster-events-module.js");
  const { clusterStateModules } = await import("./cluster/cluster-state-modules.js");
  return [
    clusterModule(options.cluster),
    clusterRpcModule(),
    clusterMembersModule(links),
    clusterNodesModule(),
    clusterPresenceModule(),
    clusterEventsModule(),
    ...clusterStateModules({ channels: deps.channels !== undefined }),
  ];
}

/** Plugin methods and routes given directly (tests, embedders) as one module. */
function extrasModule(deps: GatewayDeps): GatewayModuleDef[] {
  if (!deps.registerMethods && !deps.http?.register) return [];
  return [
    {
      name: "extras",
      register(r) {
        deps.registerMethods?.(r.extra.methods);
        deps.http?.register?.(r.extra.http, r.core);
      },
    },
  ];
}

/** Opens the stores, builds the core and the modules, and starts the server. */
export async function startGateway(options: GatewayOptions, log: Logger, deps: GatewayDeps = {}): Promise<GatewayInstance> {
  let bus: GatewayContext["bus"] | null = null;
  const devices = await DevicePairingStore.open({
    stateDir: options.stateDir,
    // Pairing events are broadcast to pairing-scoped clients once the core is up.
    onEvent: (e) => bus?.broadcast(e.event, e.payload),
    onWarning: (message, details) => log.warn(details, message),
  });
  let tls;
  try {
    // Never plaintext when TLS was asked for: prepareTls throws (exit 78) rather than fall back.
    tls = options.tls?.enabled ? await prepareTls(options.tls, options.stateDir) : null;
  } catch (err) {
    await devices.close();
    throw err;
  }
  const app = createGatewayApp(tls);
  const methods = new MethodTable();
  const extras: GatewayExtras = { methods, http: new HttpMountTable() };
  const host = new ModuleHost<GatewayContext, GatewayExtras, Connection>(log);
  const core = createGatewayCore(options, {
    app,
    log,
    devices,
    listeners: host,
    healthSections: () => host.healthSections(),
    advertisedMethods: () => methods.advertised(),
  });
  bus = core.ctx.bus;
  let server: GatewayServer;
  let bound: ListenAddress | null = null;
  const links: ClusterHostLinks = { listening: () => bound };
  try {
    registerCoreMethods(methods);
    const apis: ModuleApis = { agents: () => host.api<AgentRuntime>(AGENTS_MODULE), channels: () => host.api<ChannelsApi>(CHANNELS_MODULE) };
    await host.register([...(await clusterModules(options, links, deps)), ...builtInModules(deps, core.ctx, apis), ...(deps.modules ?? []), ...extrasModule(deps)], core.ctx, extras);
    await host.start();
    server = await startGatewayServer({ app, core, methods, http: extras.http, tls });
    bound = { host: server.host, port: server.port };
  } catch (err) {
    await host.stop();
    await devices.close();
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    server,
    devices,
    module: (name) => host.api(name),
    reload(next, actions) {
      const prevAuth = core.ctx.options.auth;
      core.ctx.options = next;
      core.ctx.presence.setMaxEntries(next.presenceMaxEntries);
      // Sessions admitted by the old shared secret end with it (4001 "gateway auth changed").
      if (sharedAuthChanged(prevAuth, next.auth)) closeSharedAuthSessions(core.ctx);
      return host.dispatchReload(actions);
    },
    stop(reason = "gateway stopping", restartExpectedMs = null) {
      stopping ??= (async () => {
        await server.close(reason, restartExpectedMs);
        await host.stop();
        await devices.close();
      })();
      return stopping;
    },
  };
}
