import Type from "typebox";

// The bounds live in a file without typebox so that runtime code (presence) can use them
// without loading the schema builder on the gateway's start-up path.
import { LIMITS } from "../limits.js";
export { LIMITS };

/** string, minLength 1 — the reference's `NonEmptyString`. */
export const NonEmptyString = Type.String({ minLength: 1 });

/** Non-empty string of at most `max` characters. */
export const Bounded = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Non-empty name (≤ `LIMITS.name`). */
export const NameString = Bounded(LIMITS.name);
/** Non-empty identifier (≤ `LIMITS.id`). */
export const IdString = Bounded(LIMITS.id);
/** Non-empty version (≤ `LIMITS.version`). */
export const VersionString = Bounded(LIMITS.version);
/** Non-empty credential or key material (≤ `LIMITS.secret`). */
export const SecretString = Bounded(LIMITS.secret);

/** List of at most `LIMITS.list` bounded entries. */
export const BoundedList = (max: number = LIMITS.entry) => Type.Array(Bounded(max), { maxItems: LIMITS.list });

/** Closed object options (`additionalProperties:false`), as every reference schema uses. */
export const closed = { additionalProperties: false } as const;

/** Params of a method that takes none: `{}` (closed). */
export const EmptyParams = Type.Object({}, closed);
/** Params that name one pending pairing request: `{ requestId }`. */
export const RequestIdParams = Type.Object({ requestId: IdString }, closed);
