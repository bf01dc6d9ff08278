/** Frames: `req`, `res`, `event` and the error shape (§1.2). */
import Type from "typebox";
import { IdString, NonEmptyString, closed } from "./primitives.js";

/** `res.error` (§1.2). */
export const ErrorShape = Type.Object(
  {
    code: NonEmptyString,
    message: NonEmptyString,
    details: Type.Optional(Type.Unknown()),
    retryable: Type.Optional(Type.Boolean()),
    retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  closed,
);

/** Client → gateway request (§1.2). */
export const RequestFrame = Type.Object(
  {
    type: Type.Literal("req"),
    id: IdString,
    method: IdString,
    params: Type.Optional(Type.Unknown()),
  },
  closed,
);

/** Gateway → client response (§1.2). */
export const ResponseFrame = Type.Object(
  {
    type: Type.Literal("res"),
    id: NonEmptyString,
    ok: Type.Boolean(),
    payload: Type.Optional(Type.Unknown()),
    error: Type.Optional(ErrorShape),
  },
  closed,
);

export const StateVersion = Type.Object(
  { presence: Type.Integer({ minimum: 0 }), health: Type.Integer({ minimum: 0 }) },
  closed,
);

/** Gateway → client event (§1.2). */
export const EventFrame = Type.Object(
  {
    type: Type.Literal("event"),
    event: NonEmptyString,
    payload: Type.Optional(Type.Unknown()),
    seq: Type.Optional(Type.Integer({ minimum: 0 })),
    stateVersion: Type.Optional(StateVersion),
  },
  closed,
);

/** This family's definitions, spread into `PROTOCOL_SCHEMAS`. */
export const frameSchemas = { RequestFrame, ResponseFrame, EventFrame, ErrorShape, StateVersion };
