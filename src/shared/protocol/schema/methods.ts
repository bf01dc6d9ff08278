import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";

const Empty = Type.Object({}, closed);
const RequestIdOnly = Type.Object({ requestId: NonEmptyString }, closed);

export const LogsTailParams = Type.Object(
  {
    cursor: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  closed,
);

export const NodeListParams = Empty;
export const NodeDescribeParams = Type.Object({ nodeId: NonEmptyString }, closed);
export const NodeRenameParams = Type.Object({ nodeId: NonEmptyString, displayName: Type.String() }, closed);

export const NodeInvokeParams = Type.Object(
  {
    nodeId: NonEmptyString,
    command: NonEmptyString,
    params: Type.Optional(Type.Unknown()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
    idempotencyKey: NonEmptyString,
  },
  closed,
);

export const NodeInvokeResultParams = Type.Object(
  {
    id: NonEmptyString,
    nodeId: NonEmptyString,
    ok: Type.Boolean(),
    payload: Type.Optional(Type.Unknown()),
    payloadJSON: Type.Optional(Type.String()),
    error: Type.Optional(
      Type.Object(
        { code: Type.Optional(NonEmptyString), message: Type.Optional(NonEmptyString) },
        closed,
      ),
    ),
  },
  closed,
);

export const NodeEventParams = Type.Object(
  { event: NonEmptyString, payload: Type.Optional(Type.Unknown()), payloadJSON: Type.Optional(Type.String()) },
  closed,
);

export const NodePairRequestParams = Type.Object(
  {
    nodeId: NonEmptyString,
    displayName: Type.Optional(NonEmptyString),
    platform: Type.Optional(NonEmptyString),
    version: Type.Optional(NonEmptyString),
    coreVersion: Type.Optional(NonEmptyString),
    uiVersion: Type.Optional(NonEmptyString),
    deviceFamily: Type.Optional(NonEmptyString),
    modelIdentifier: Type.Optional(NonEmptyString),
    caps: Type.Optional(Type.Array(NonEmptyString)),
    commands: Type.Optional(Type.Array(NonEmptyString)),
    remoteIp: Type.Optional(NonEmptyString),
    silent: Type.Optional(Type.Boolean()),
  },
  closed,
);
export const NodePairListParams = Empty;
export const NodePairApproveParams = RequestIdOnly;
export const NodePairRejectParams = RequestIdOnly;
export const NodePairVerifyParams = Type.Object({ nodeId: NonEmptyString, token: NonEmptyString }, closed);

export const DevicePairListParams = Empty;
export const DevicePairApproveParams = RequestIdOnly;
export const DevicePairRejectParams = RequestIdOnly;
export const DeviceTokenRotateParams = Type.Object(
  { deviceId: NonEmptyString, role: NonEmptyString, scopes: Type.Optional(Type.Array(NonEmptyString)) },
  closed,
);
export const DeviceTokenRevokeParams = Type.Object({ deviceId: NonEmptyString, role: NonEmptyString }, closed);
