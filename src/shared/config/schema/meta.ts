/** `meta`: written by the tools that last touched the file; open. */
import Type from "typebox";

import { Str } from "./common.js";

export const MetaSchema = Type.Object(
  {
    lastTouchedVersion: Type.Optional(Str),
    lastTouchedAt: Type.Optional(Str),
  },
  { additionalProperties: true },
);

/** Root properties contributed by this file (spread into the root schema). */
export const metaSection = { meta: Type.Optional(MetaSchema) };
