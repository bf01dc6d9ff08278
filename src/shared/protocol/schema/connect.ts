import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";

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
    displayName: Type.Optional(NonEmptyString),
    version: NonEmptyString,
    platform: NonEmptyString,
    deviceFamily: Type.Optional(NonEmptyString),
    modelIdentifier: Type.Optional(NonEmptyString),
    mode: GatewayClientMode,
    instanceId: Type.Optional(NonEmptyString),
  },
  closed,
);

export const ConnectDevice = Type.Object(
  {
    id: NonEmptyString,
    publicKey: NonEmptyString,
    signature: NonEmptyString,
    signedAt: Type.Integer({ minimum: 0 }),
    nonce: Type.Optional(NonEmptyString),
  },
  closed,
);

export const ConnectAuth = Type.Object(
  { token: Type.Optional(Type.String()), password: Type.Optional(Type.String()) },
  closed,
);

/** `connect` params (§2.2). */
export const ConnectParams = Type.Object(
  {
    minProtocol: Type.Integer({ minimum: 1 }),
    maxProtocol: Type.Integer({ minimum: 1 }),
    client: ConnectClient,
    caps: Type.Optional(Type.Array(NonEmptyString)),
    commands: Type.Optional(Type.Array(NonEmptyString)),
    permissions: Type.Optional(Type.Record(NonEmptyString, Type.Boolean())),
    pathEnv: Type.Optional(Type.String()),
    role: Type.Optional(NonEmptyString),
    scopes: Type.Optional(Type.Array(NonEmptyString)),
    device: Type.Optional(ConnectDevice),
    auth: Type.Optional(ConnectAuth),
    locale: Type.Optional(Type.String()),
    userAgent: Type.Optional(Type.String()),
  },
  closed,
);
