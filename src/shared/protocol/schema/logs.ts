/** `logs.tail` (§3.12). */
import Type from "typebox";
import { closed } from "./primitives.js";

export const LogsTailParams = Type.Object(
  {
    cursor: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    maxBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  },
  closed,
);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const logsSchemas = { LogsTailParams };
