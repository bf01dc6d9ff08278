import Type from "typebox";

/**
 * Upper bounds on what a client may send in a string or list the gateway keeps (pairing
 * files, presence, `hello-ok`), checked at the edge by the schemas so an oversized field is
 * refused with `INVALID_REQUEST` ("at /client/displayName: must NOT have more than 256
 * characters") before anything is stored. Generous for real clients; see docs/security.md.
 */
export const LIMITS = {
  /** Human-readable names and descriptors: displayName, platform, deviceFamily, modelIdentifier, host. */
  name: 256,
  /** Identifiers: node/device/instance/request ids, frame ids, roles, scopes, method and event names. */
  id: 128,
  /** Version strings (version, coreVersion, uiVersion). */
  version: 128,
  /** Capability / command / permission names and other list entries. */
  entry: 256,
  /** Entries in any list (caps, commands, scopes, tags) or keys in `permissions`. */
  list: 256,
  /** Keys, signatures, nonces, tokens, passwords and other opaque credentials. */
  secret: 4096,
  /** Free text a client passes through (locale, user agent, error messages). */
  text: 4096,
  /** `pathEnv` (a PATH list). */
  pathEnv: 16384,
} as const;

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
