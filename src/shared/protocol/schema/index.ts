/**
 * Every protocol schema, keyed by the name its generated validator and TS type carry.
 * This object is the single source of truth: `npm run protocol:gen` turns it into
 * `generated/protocol.schema.json`, `generated/validators.ts` (AJV standalone code)
 * and `generated/types.ts`.
 *
 * One file per method family exports `<family>Schemas`; adding a family = one new file +
 * one spread line below (order = order of the generated output; append new families).
 */
import { frameSchemas } from "./frames.js";
import { connectSchemas } from "./connect.js";
import { helloSchemas } from "./hello.js";
import { presenceSchemas } from "./presence.js";
import { logsSchemas } from "./logs.js";
import { nodeSchemas } from "./nodes.js";
import { nodePairingSchemas } from "./node-pairing.js";
import { devicePairingSchemas } from "./device-pairing.js";
import * as A from "./agent.js";
import * as C from "./chat.js";
import * as S from "./sessions.js";
import * as Ch from "./channels.js";

export const PROTOCOL_SCHEMAS = {
  ...frameSchemas,
  ...connectSchemas,
  ...helloSchemas,
  ...presenceSchemas,
  ...logsSchemas,
  ...nodeSchemas,
  ...nodePairingSchemas,
  ...devicePairingSchemas,
  AgentParams: A.AgentParams,
  AgentWaitParams: A.AgentWaitParams,
  AgentIdentityGetParams: A.AgentIdentityGetParams,
  ChatSendParams: C.ChatSendParams,
  ChatHistoryParams: C.ChatHistoryParams,
  ChatAbortParams: C.ChatAbortParams,
  ChatInjectParams: C.ChatInjectParams,
  SessionsListParams: S.SessionsListParams,
  SessionsPreviewParams: S.SessionsPreviewParams,
  SessionsResetParams: S.SessionsResetParams,
  SessionsDeleteParams: S.SessionsDeleteParams,
  SessionsPatchParams: S.SessionsPatchParams,
  SendParams: Ch.SendParams,
  ChannelsStatusParams: Ch.ChannelsStatusParams,
  ChannelsLogoutParams: Ch.ChannelsLogoutParams,
  WebLoginStartParams: Ch.WebLoginStartParams,
  WebLoginWaitParams: Ch.WebLoginWaitParams,
} as const;

export type ProtocolSchemaName = keyof typeof PROTOCOL_SCHEMAS;
