/** `hello-ok` and its snapshot (§2.10). */
import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";
import { StateVersion } from "./frames.js";
import { PresenceEntry } from "./presence.js";

export const Policy = Type.Object(
  {
    maxPayload: Type.Integer({ minimum: 1 }),
    maxBufferedBytes: Type.Integer({ minimum: 1 }),
    tickIntervalMs: Type.Integer({ minimum: 1 }),
  },
  closed,
);

export const SessionDefaults = Type.Object(
  {
    defaultAgentId: NonEmptyString,
    mainKey: NonEmptyString,
    mainSessionKey: NonEmptyString,
    scope: Type.Optional(Type.String()),
  },
  closed,
);

export const Snapshot = Type.Object(
  {
    presence: Type.Array(PresenceEntry),
    health: Type.Unknown(),
    stateVersion: StateVersion,
    uptimeMs: Type.Integer({ minimum: 0 }),
    configPath: Type.Optional(Type.String()),
    stateDir: Type.Optional(Type.String()),
    sessionDefaults: Type.Optional(SessionDefaults),
  },
  closed,
);

/** `hello-ok` (§2.10). */
export const HelloOk = Type.Object(
  {
    type: Type.Literal("hello-ok"),
    protocol: Type.Integer({ minimum: 1 }),
    server: Type.Object(
      {
        version: NonEmptyString,
        commit: Type.Optional(Type.String()),
        host: Type.Optional(Type.String()),
        connId: NonEmptyString,
      },
      closed,
    ),
    features: Type.Object(
      { methods: Type.Array(NonEmptyString), events: Type.Array(NonEmptyString) },
      closed,
    ),
    snapshot: Snapshot,
    canvasHostUrl: Type.Optional(Type.String()),
    auth: Type.Optional(
      Type.Object(
        {
          deviceToken: NonEmptyString,
          role: NonEmptyString,
          scopes: Type.Array(NonEmptyString),
          issuedAtMs: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        closed,
      ),
    ),
    policy: Policy,
  },
  closed,
);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const helloSchemas = { HelloOk };
