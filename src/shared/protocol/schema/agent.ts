/** Params of the `agent` method family (§3.5–§3.7). Closed objects, as the reference. */
import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";

const Str = Type.String();

/** `agent` (§3.5). `idempotencyKey` is also the runId. */
export const AgentParams = Type.Object(
  {
    message: NonEmptyString,
    agentId: Type.Optional(NonEmptyString),
    to: Type.Optional(Str),
    replyTo: Type.Optional(Str),
    sessionId: Type.Optional(Str),
    sessionKey: Type.Optional(Str),
    thinking: Type.Optional(Str),
    deliver: Type.Optional(Type.Boolean()),
    attachments: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 32 })),
    channel: Type.Optional(Str),
    replyChannel: Type.Optional(Str),
    accountId: Type.Optional(Str),
    replyAccountId: Type.Optional(Str),
    threadId: Type.Optional(Str),
    groupId: Type.Optional(Str),
    groupChannel: Type.Optional(Str),
    groupSpace: Type.Optional(Str),
    timeout: Type.Optional(Type.Integer({ minimum: 0 })),
    lane: Type.Optional(Str),
    extraSystemPrompt: Type.Optional(Str),
    idempotencyKey: Type.String({ minLength: 1, maxLength: 256 }),
    label: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    spawnedBy: Type.Optional(Str),
  },
  closed,
);

/** `agent.wait` (§3.6): default timeout 30 s; `0` only checks the cache. */
export const AgentWaitParams = Type.Object(
  { runId: NonEmptyString, timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })) },
  closed,
);

/** `agent.identity.get` (§3.7). */
export const AgentIdentityGetParams = Type.Object(
  { agentId: Type.Optional(NonEmptyString), sessionKey: Type.Optional(NonEmptyString) },
  closed,
);
