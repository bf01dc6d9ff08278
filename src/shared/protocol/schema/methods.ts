import Type from "typebox";
import { Bounded, BoundedList, IdString, LIMITS, NameString, SecretString, VersionString, closed } from "./primitives.js";

const Empty = Type.Object({}, closed);
const RequestIdOnly = Type.Object({ requestId: IdString }, closed);

export const LogsTailParams = Type.Object(
  {
    cursor: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  closed,
);

export const NodeListParams = Empty;
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

export const NodePairRequestParams = Type.Object(
  {
    nodeId: IdString,
    displayName: Type.Optional(NameString),
    platform: Type.Optional(NameString),
    version: Type.Optional(VersionString),
    coreVersion: Type.Optional(VersionString),
    uiVersion: Type.Optional(VersionString),
    deviceFamily: Type.Optional(NameString),
    modelIdentifier: Type.Optional(NameString),
    caps: Type.Optional(BoundedList()),
    commands: Type.Optional(BoundedList()),
    remoteIp: Type.Optional(IdString),
    silent: Type.Optional(Type.Boolean()),
  },
  closed,
);
export const NodePairListParams = Empty;
export const NodePairApproveParams = RequestIdOnly;
export const NodePairRejectParams = RequestIdOnly;
export const NodePairVerifyParams = Type.Object({ nodeId: IdString, token: SecretString }, closed);

export const DevicePairListParams = Empty;
export const DevicePairApproveParams = RequestIdOnly;
export const DevicePairRejectParams = RequestIdOnly;
export const DeviceTokenRotateParams = Type.Object(
  { deviceId: IdString, role: IdString, scopes: Type.Optional(BoundedList(LIMITS.id)) },
  closed,
);
export const DeviceTokenRevokeParams = Type.Object({ deviceId: IdString, role: IdString }, closed);
