/** `connect` params (§2.2). */
import Type from "typebox";
import { BoundedList, IdString, LIMITS, NameString, SecretString, VersionString, closed } from "./primitives.js";

/** Accepted `client.id` values (exact match; §2.2). */
export const CLIENT_IDS = [
  "webchat-ui",
  "clawdbot-control-ui",
  "webchat",
  "cli",
  "gateway-client",
  "clawdbot-macos",
  "clawdbot-ios",
  "clawdbot-android",
  "node-host",
  "test",
  "fingerprint",
  "clawdbot-probe",
] as const;

/** Accepted `client.mode` values (§2.2). */
export const CLIENT_MODES = ["webchat", "cli", "ui", "backend", "node", "probe", "test"] as const;

export const GatewayClientId = Type.Union(CLIENT_IDS.map((id) => Type.Literal(id)));
export const GatewayClientMode = Type.Union(CLIENT_MODES.map((m) => Type.Literal(m)));

export const ConnectClient = Type.Object(
  {
    id: GatewayClientId,
    displayName: Type.Optional(NameString),
    version: VersionString,
    platform: NameString,
    deviceFamily: Type.Optional(NameString),
    modelIdentifier: Type.Optional(NameString),
    mode: GatewayClientMode,
    instanceId: Type.Optional(IdString),
  },
  closed,
);

export const ConnectDevice = Type.Object(
  {
    id: IdString,
    publicKey: SecretString,
    signature: SecretString,
    signedAt: Type.Integer({ minimum: 0 }),
    nonce: Type.Optional(SecretString),
  },
  closed,
);

export const ConnectAuth = Type.Object(
  { token: Type.Optional(Type.String({ maxLength: LIMITS.secret })), password: Type.Optional(Type.String({ maxLength: LIMITS.secret })) },
  closed,
);

/** `connect` params (§2.2). */
export const ConnectParams = Type.Object(
  {
    minProtocol: Type.Integer({ minimum: 1 }),
    maxProtocol: Type.Integer({ minimum: 1 }),
    client: ConnectClient,
    caps: Type.Optional(BoundedList()),
    commands: Type.Optional(BoundedList()),
    permissions: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: LIMITS.entry }), Type.Boolean(), { maxProperties: LIMITS.list })),
    pathEnv: Type.Optional(Type.String({ maxLength: LIMITS.pathEnv })),
    role: Type.Optional(IdString),
    scopes: Type.Optional(BoundedList(LIMITS.id)),
    device: Type.Optional(ConnectDevice),
    auth: Type.Optional(ConnectAuth),
    locale: Type.Optional(Type.String({ maxLength: LIMITS.id })),
    userAgent: Type.Optional(Type.String({ maxLength: LIMITS.text })),
  },
  closed,
);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const connectSchemas = { ConnectParams };
