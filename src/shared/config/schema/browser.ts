/** `browser` (§8): typed where the gateway derives ports from it, otherwise open. */
import Type from "typebox";

import { Bool, Str } from "./common.js";

export const BrowserSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    controlUrl: Type.Optional(Str),
    controlToken: Type.Optional(Str),
    cdpUrl: Type.Optional(Str),
  },
  { additionalProperties: true },
);

/** Root properties contributed by this file (spread into the root schema). */
export const browserSection = { browser: Type.Optional(BrowserSchema) };
