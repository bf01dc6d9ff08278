/**
 * The `nodes` module: the node registry, `node.invoke` and `node.event`, chat
 * subscriptions, wake words and the legacy node pairing store (`nodes/{pending,paired}.json`,
 * opened here and closed on stop).
 *
 *   hello-ok (role node) → opened: filter commands, register, touch lastConnectedAtMs
 *   socket closed        → closed: unregister, fail pending invokes, drop subscriptions
 */
import { NodePairingStore } from "../../shared/store/node-pairing-store.js";
import type { GatewayModuleDef } from "../gateway-module.js";
import { registerNodeMethods } from "./node-methods.js";
import { registerNodePairMethods } from "./node-pair-methods.js";
import { NodeService } from "./node-service.js";

export const NODES_MODULE = "nodes";

export function nodesModule(): GatewayModuleDef {
  return {
    name: NODES_MODULE,
    async register(r) {
      const { log, bus, live, systemEvents } = r.core;
      const pairing = await NodePairingStore.open({ stateDir: live.current.stateDir, onWarning: (message, details) => log.warn(details, message) });
      const service = new NodeService({ log, bus, live, pairing, systemEvents });
      registerNodeMethods(r.extra.methods, service);
      registerNodePairMethods(r.extra.methods, service);
      r.listen({ opened: (conn) => service.onConnected(conn), closed: (conn) => service.onDisconnected(conn) });
      return {
        api: service,
        start: () => service.start(live.current.stateDir),
        stop: async () => {
          service.close();
          await pairing.close();
        },
      };
    },
  };
}
