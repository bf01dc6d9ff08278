/**
 * Building blocks every config section file shares. A section file imports from here,
 * never from another section, so sections can be added, moved or tightened independently.
 */
import Type from "typebox";

/** `{ additionalProperties: false }` — shared by every closed object. */
export const closed = { additionalProperties: false } as const;

/** A TCP port as written in config (`--port 0` is a CLI/env-only convenience). */
export const PortSchema = Type.Integer({ minimum: 1, maximum: 65535 });

/** Any string. */
export const Str = Type.String();
/** Any boolean. */
export const Bool = Type.Boolean();
/** A list of strings. */
export const StrList = Type.Array(Type.String());
/** An integer >= 0. */
export const NonNegInt = Type.Integer({ minimum: 0 });
/** An integer >= 1. */
export const PosInt = Type.Integer({ minimum: 1 });
/** A section whose keys belong to later work: any object. */
export const Loose = Type.Record(Type.String(), Type.Unknown());
