/** Node methods: `node.list`, `node.describe`, `node.rename`, `node.invoke` (+ result), `node.event` (§3.11). */
import Type from "typebox";
import { Bounded, EmptyParams, IdString, LIMITS, closed } from "./primitives.js";

export const NodeListParams = EmptyParams;
export const NodeDescribeParams = Type.Object({ nodeId: IdString }, closed);
export const NodeRenameParams = Type.Object({ nodeId: IdString, displayName: Type.String({ maxLength: LIMITS.name }) }, closed);

export const NodeInvokeParams = Type.Object(
  {
    nodeId: IdString,
    command: Bounded(LIMITS.entry),
    params: Type.Optional(Type.Unknown()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
    idempotencyKey: Bounded(LIMITS.entry),
  },
  closed,
);

export const NodeInvokeResultParams = Type.Object(
  {
    id: IdString,
    nodeId: IdString,
    ok: Type.Boolean(),
    payload: Type.Optional(Type.Unknown()),
    payloadJSON: Type.Optional(Type.String()),
    error: Type.Optional(
      Type.Object(
        { code: Type.Optional(IdString), message: Type.Optional(Bounded(LIMITS.text)) },
        closed,
      ),
    ),
  },
  closed,
);

export const NodeEventParams = Type.Object(
  { event: IdString, payload: Type.Optional(Type.Unknown()), payloadJSON: Type.Optional(Type.String()) },
  closed,
);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const nodeSchemas = {
  NodeListParams,
  NodeDescribeParams,
  NodeRenameParams,
  NodeInvokeParams,
  NodeInvokeResultParams,
  NodeEventParams,
};
