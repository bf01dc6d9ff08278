/** Params of the `chat.*` methods (§3.9). */
import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";

/** `chat.send`. */
export const ChatSendParams = Type.Object(
  {
    sessionKey: NonEmptyString,
    message: Type.String(),
    thinking: Type.Optional(Type.String()),
    deliver: Type.Optional(Type.Boolean()),
    attachments: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 32 })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
    idempotencyKey: Type.String({ minLength: 1, maxLength: 256 }),
  },
  closed,
);

/** `chat.history` (limit 1..1000, default 200). */
export const ChatHistoryParams = Type.Object(
  { sessionKey: NonEmptyString, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) },
  closed,
);

/** `chat.abort`. */
export const ChatAbortParams = Type.Object({ sessionKey: NonEmptyString, runId: Type.Optional(NonEmptyString) }, closed);

/** `chat.inject` (admin). */
export const ChatInjectParams = Type.Object(
  { sessionKey: NonEmptyString, message: NonEmptyString, label: Type.Optional(Type.String({ maxLength: 100 })) },
  closed,
);
