/** Legacy node pairing: `node.pair.request|list|approve|reject|verify` (§3.11). */
import Type from "typebox";
import { BoundedList, EmptyParams, IdString, NameString, RequestIdParams, SecretString, VersionString, closed } from "./primitives.js";

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
export const NodePairListParams = EmptyParams;
export const NodePairApproveParams = RequestIdParams;
export const NodePairRejectParams = RequestIdParams;
export const NodePairVerifyParams = Type.Object({ nodeId: IdString, token: SecretString }, closed);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const nodePairingSchemas = {
  NodePairRequestParams,
  NodePairListParams,
  NodePairApproveParams,
  NodePairRejectParams,
  NodePairVerifyParams,
};
