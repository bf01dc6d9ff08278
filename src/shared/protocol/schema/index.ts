/**
 * Every protocol schema, keyed by the name its generated validator and TS type carry.
 * This object is the single source of truth: `npm run protocol:gen` turns it into
 * `generated/protocol.schema.json`, `generated/validators.ts` (AJV standalone code)
 * and `generated/types.ts`.
 */
import { ErrorShape, EventFrame, RequestFrame, ResponseFrame, StateVersion } from "./frames.js";
import { ConnectParams } from "./connect.js";
import { HelloOk, PresenceEntry } from "./hello.js";
import * as M from "./methods.js";
import * as A from "./agent.js";
import * as C from "./chat.js";
import * as S from "./sessions.js";
import * as Ch from "./channels.js";

export const PROTOCOL_SCHEMAS = {
  RequestFrame,
  ResponseFrame,
  EventFrame,
  ErrorShape,
  StateVersion,
  ConnectParams,
  HelloOk,
  PresenceEntry,
  LogsTailParams: M.LogsTailParams,
  NodeListParams: M.NodeListParams,
  NodeDescribeParams: M.NodeDescribeParams,
  NodeRenameParams: M.NodeRenameParams,
  NodeInvokeParams: M.NodeInvokeParams,
  NodeInvokeResultParams: M.NodeInvokeResultParams,
  NodeEventParams: M.NodeEventParams,
  NodePairRequestParams: M.NodePairRequestParams,
  NodePairListParams: M.NodePairListParams,
  NodePairApproveParams: M.NodePairApproveParams,
  NodePairRejectParams: M.NodePairRejectParams,
  NodePairVerifyParams: M.NodePairVerifyParams,
  DevicePairListParams: M.DevicePairListParams,
  DevicePairApproveParams: M.DevicePairApproveParams,
  DevicePairRejectParams: M.DevicePairRejectParams,
  DeviceTokenRotateParams: M.DeviceTokenRotateParams,
  DeviceTokenRevokeParams: M.DeviceTokenRevokeParams,
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
  SendParams: Ch.SendParams, ChannelsStatusParams: Ch.ChannelsStatusParams, ChannelsLogoutParams: Ch.ChannelsLogoutParams,
} as const;

export type ProtocolSchemaName = keyof typeof PROTOCOL_SCHEMAS;
