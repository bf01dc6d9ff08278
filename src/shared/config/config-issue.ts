import type { GatewayErrorCode } from "../errors.js";

/** One problem found in a config file. `path` is dotted (`gateway.auth.token`), `""` = whole file. */
export interface ConfigIssue {
  path: string;
  message: string;
  /** Which stage rejected it: parse, include, env substitution or schema. */
  code: GatewayErrorCode;
}
