/** Params of the channel methods: `send` (§3.4), `channels.status`, `channels.logout` (§3.12), `web.login.*` (§10.2). */
import Type from "typebox";
import { NonEmptyString, closed } from "./primitives.js";

export const SendParams = Type.Object(
  {
    to: NonEmptyString,
    message: NonEmptyString,
    mediaUrl: Type.Optional(Type.String()),
    mediaUrls: Type.Optional(Type.Array(Type.String())),
    gifPlayback: Type.Optional(Type.Boolean()),
    channel: Type.Optional(Type.String()),
    accountId: Type.Optional(Type.String()),
    sessionKey: Type.Optional(Type.String()),
    idempotencyKey: NonEmptyString,
  },
  closed,
);

export const ChannelsStatusParams = Type.Object(
  { probe: Type.Optional(Type.Boolean()), timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })) },
  closed,
);

export const ChannelsLogoutParams = Type.Object({ channel: NonEmptyString, accountId: Type.Optional(Type.String()) }, closed);

/** `web.login.start` (§10.2): QR login of a WhatsApp account. */
export const WebLoginStartParams = Type.Object(
  {
    force: Type.Optional(Type.Boolean()),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
    verbose: Type.Optional(Type.Boolean()),
    accountId: Type.Optional(Type.String()),
  },
  closed,
);

/** `web.login.wait` (§10.2): waits for the scan of the QR `web.login.start` returned. */
export const WebLoginWaitParams = Type.Object({ timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })), accountId: Type.Optional(Type.String()) }, closed);
