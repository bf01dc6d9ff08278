/**
 * The channels module as the composition loads it: registered only when a channel is
 * configured (and `CLAWDBOT_SKIP_CHANNELS` is unset; see `channelsToRun`), with the module
 * code imported at registration, so a gateway without channels never loads it. Inbound
 * messages go to the agents runtime unless a handler is given (tests, benches), and
 * delivered `send`s are mirrored into its session transcripts unless a mirror is given.
 */
import type { AgentRuntime } from "../agents/agent-runtime.js";
import { AGENTS_MODULE } from "../agents/agents-module.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import type { ChannelsModuleOptions } from "./channels-module-options.js";
import type { InboundHandler } from "./channel-types.js";

import { CHANNELS_MODULE } from "./channels-module-options.js";

export { CHANNELS_MODULE };

/** What the composition is given to run channels. */
export interface ChannelsLoadOptions extends Omit<ChannelsModuleOptions, "handler"> {
  /** Answers inbound messages. Default: one agent run per message (agent-inbound.ts). */
  handler?: InboundHandler;
}

/** The channels module, its code loaded when it registers. */
export function channelsLoader(o: ChannelsLoadOptions): GatewayModuleDef {
  return {
    name: CHANNELS_MODULE,
    dependsOn: [AGENTS_MODULE],
    async register(r) {
      const [{ channelsModule }, { agentInboundHandler, agentSendMirror }] = await Promise.all([import("./channels-module.js"), import("./agent-inbound.js")]);
      const agents = (): AgentRuntime | undefined => r.api<AgentRuntime>(AGENTS_MODULE);
      return channelsModule({ ...o, handler: o.handler ?? agentInboundHandler(agents, r.core.log), mirror: o.mirror ?? agentSendMirror(agents) }).register(r);
    },
  };
}
