/** Device pairing and device tokens: `device.pair.list|approve|reject`, `device.token.rotate|revoke` (§3.11). */
import Type from "typebox";
import { BoundedList, EmptyParams, IdString, LIMITS, RequestIdParams, closed } from "./primitives.js";

export const DevicePairListParams = EmptyParams;
export const DevicePairApproveParams = RequestIdParams;
export const DevicePairRejectParams = RequestIdParams;
export const DeviceTokenRotateParams = Type.Object(
  { deviceId: IdString, role: IdString, scopes: Type.Optional(BoundedList(LIMITS.id)) },
  closed,
);
export const DeviceTokenRevokeParams = Type.Object({ deviceId: IdString, role: IdString }, closed);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const devicePairingSchemas = {
  DevicePairListParams,
  DevicePairApproveParams,
  DevicePairRejectParams,
  DeviceTokenRotateParams,
  DeviceTokenRevokeParams,
};
