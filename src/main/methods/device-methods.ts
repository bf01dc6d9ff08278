/**
 * Device pairing administration `device.pair.list/approve/reject` and
 * `device.token.rotate/revoke` (§3.11, PAIRING scope) on the device pairing store.
 *
 * The store emits `device.pair.resolved` itself (broadcast to the pairing topic); handlers
 * await `flush()` so the change is on disk before it is acknowledged. The store keeps
 * no auth cache: a rotated or revoked token fails the very next handshake, and the sessions
 * it admitted are closed (4001).
 */
import type { MethodTable } from "../router.js";
import { toPairedDeviceView } from "../../shared/store/device-pairing-types.js";
import { closeDeviceTokenSessions } from "../handshake/session-auth.js";

/** Registers the device pairing methods. */
export function registerDeviceMethods(table: MethodTable): void {
  table.add("device.pair.list", "DevicePairListParams", ({ ctx }) => ({
    pending: ctx.devices.listPending(),
    paired: ctx.devices.listPaired().map(toPairedDeviceView),
  }));

  table.add("device.pair.approve", "DevicePairApproveParams", async ({ ctx, params }) => {
    const { requestId, device } = ctx.devices.approve(params.requestId);
    await ctx.devices.flush();
    return { requestId, device: toPairedDeviceView(device) };
  });

  table.add("device.pair.reject", "DevicePairRejectParams", async ({ ctx, params }) => {
    const result = ctx.devices.reject(params.requestId);
    await ctx.devices.flush();
    return result;
  });

  // A rotation grants at most the device's approved scopes and at most what the caller holds.
  table.add("device.token.rotate", "DeviceTokenRotateParams", async ({ ctx, conn, params }) => {
    const t = ctx.devices.rotateToken(params.deviceId, params.role, params.scopes, conn.scopes);
    await ctx.devices.flush();
    // Sessions admitted by the old token end (the caller keeps its own: it gets the new token).
    closeDeviceTokenSessions(ctx, params.deviceId, params.role, "device token rotated", conn);
    return { deviceId: params.deviceId, role: t.role, token: t.token, scopes: t.scopes, rotatedAtMs: t.rotatedAtMs ?? t.createdAtMs };
  });

  table.add("device.token.revoke", "DeviceTokenRevokeParams", async ({ ctx, conn, params }) => {
    const t = ctx.devices.revokeToken(params.deviceId, params.role);
    await ctx.devices.flush();
    // Sessions admitted by the revoked token end; the caller's own after this response.
    closeDeviceTokenSessions(ctx, params.deviceId, params.role, "device token revoked", conn);
    setImmediate(() => closeDeviceTokenSessions(ctx, params.deviceId, params.role, "device token revoked"));
    return { deviceId: params.deviceId, role: t.role, revokedAtMs: t.revokedAtMs };
  });
}
