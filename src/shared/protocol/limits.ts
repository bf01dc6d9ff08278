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
