/** Params of the `sessions.*` methods (§3.10). */
import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";

const OneOf = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)));
const Nullable = <T extends Type.TSchema>(t: T) => Type.Optional(Type.Union([t, Type.Null()]));

/** `sessions.list`. */
export const SessionsListParams = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    activeMinutes: Type.Optional(Type.Integer({ minimum: 1 })),
    includeGlobal: Type.Optional(Type.Boolean()),
    includeUnknown: Type.Optional(Type.Boolean()),
    includeDerivedTitles: Type.Optional(Type.Boolean()),
    includeLastMessage: Type.Optional(Type.Boolean()),
    label: Type.Optional(Type.String()),
    spawnedBy: Type.Optional(Type.String()),
    agentId: Type.Optional(Type.String()),
    search: Type.Optional(Type.String()),
  },
  closed,
);

/** `sessions.preview`: at most 64 keys are read. */
export const SessionsPreviewParams = Type.Object(
  {
    keys: Type.Array(Type.String(), { minItems: 1, maxItems: 256 }),
    limit: Type.Optional(Type.Integer({ minimum: 1 })),
    maxChars: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  closed,
);

/** `sessions.reset`. */
export const SessionsResetParams = Type.Object({ key: NonEmptyString }, closed);

/** `sessions.delete` (`deleteTranscript` default true). */
export const SessionsDeleteParams = Type.Object({ key: NonEmptyString, deleteTranscript: Type.Optional(Type.Boolean()) }, closed);

/** `sessions.patch`: each field may be `null` to clear it. */
export const SessionsPatchParams = Type.Object(
  {
    key: NonEmptyString,
    label: Nullable(Type.String({ minLength: 1, maxLength: 100 })),
    thinkingLevel: Nullable(Type.String()),
    verboseLevel: Nullable(Type.String()),
    reasoningLevel: Nullable(Type.String()),
    responseUsage: Nullable(OneOf(["off", "tokens", "full", "on"])),
    elevatedLevel: Nullable(Type.String()),
    execHost: Nullable(Type.String()),
    execSecurity: Nullable(Type.String()),
    execAsk: Nullable(Type.String()),
    execNode: Nullable(Type.String()),
    model: Nullable(Type.String()),
    spawnedBy: Nullable(Type.String()),
    sendPolicy: Nullable(OneOf(["allow", "deny"])),
    groupActivation: Nullable(OneOf(["mention", "always"])),
  },
  closed,
);
