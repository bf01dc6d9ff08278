/** Presence (`system-presence`, `presence` events, §6.1). */
import Type from "typebox";
import { closed } from "./primitives.js";

/** One presence entry (§6.1). */
export const PresenceEntry = Type.Object(
  {
    host: Type.Optional(Type.String()),
    ip: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
    platform: Type.Optional(Type.String()),
    deviceFamily: Type.Optional(Type.String()),
    modelIdentifier: Type.Optional(Type.String()),
    mode: Type.Optional(Type.String()),
    lastInputSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    reason: Type.Optional(Type.String()),
    tags: Type.Optional(Type.Array(Type.String())),
    text: Type.Optional(Type.String()),
    ts: Type.Integer({ minimum: 0 }),
    deviceId: Type.Optional(Type.String()),
    roles: Type.Optional(Type.Array(Type.String())),
    scopes: Type.Optional(Type.Array(Type.String())),
    instanceId: Type.Optional(Type.String()),
  },
  closed,
);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const presenceSchemas = { PresenceEntry };
