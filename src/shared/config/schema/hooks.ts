/**
 * `hooks` (§7.2): the webhook endpoints under `hooks.path` on the gateway port. The keys
 * the gateway serves are typed; `gmail` and `internal` belong to later work and stay open.
 */
import Type from "typebox";
import type { Static } from "typebox";

const Str = Type.String();
const closed = { additionalProperties: false } as const;

const HookMappingSchema = Type.Object(
  {
    id: Type.Optional(Str),
    match: Type.Optional(Type.Object({ path: Type.Optional(Str), source: Type.Optional(Str) }, closed)),
    action: Type.Optional(Type.Enum(["wake", "agent"])),
    wakeMode: Type.Optional(Type.Enum(["now", "next-heartbeat"])),
    name: Type.Optional(Str),
    sessionKey: Type.Optional(Str),
    messageTemplate: Type.Optional(Str),
    textTemplate: Type.Optional(Str),
    deliver: Type.Optional(Type.Boolean()),
    channel: Type.Optional(Str),
    to: Type.Optional(Str),
    model: Type.Optional(Str),
    thinking: Type.Optional(Str),
    timeoutSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    transform: Type.Optional(Type.Object({ module: Str, export: Type.Optional(Str) }, closed)),
  },
  closed,
);

export const HooksSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    /** Required when enabled (start-up error otherwise). */
    token: Type.Optional(Str),
    /** Default `/hooks`; `/` is refused; trailing slashes removed. */
    path: Type.Optional(Str),
    /** Default 262144. */
    maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 67108864 })),
    presets: Type.Optional(Type.Array(Str)),
    transformsDir: Type.Optional(Str),
    mappings: Type.Optional(Type.Array(HookMappingSchema)),
    gmail: Type.Optional(Type.Record(Str, Type.Unknown())),
    internal: Type.Optional(Type.Record(Str, Type.Unknown())),
  },
  closed,
);

/** `hooks` as written. */
export type HooksConfig = Static<typeof HooksSchema>;
/** One `hooks.mappings[]` entry as written. */
export type HookMappingConfig = Static<typeof HookMappingSchema>;

/** The `hooks` root key (one line in schema/index.ts). */
export const hooksSection = { hooks: Type.Optional(HooksSchema) };
