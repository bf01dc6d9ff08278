/**
 * Root keys of clawdbot's config whose sections belong to later work. They are accepted
 * as any object (so existing files validate) until their owner adds a typed section file;
 * `index.ts` drops a loose entry as soon as a section file defines the same key.
 */
import Type from "typebox";

import { Loose } from "./common.js";

/** Loose root properties, in clawdbot's order. */
export const looseSections = {
  bindings: Type.Optional(Type.Array(Type.Unknown())),
  hooks: Type.Optional(Loose),
  session: Type.Optional(Loose),
  agents: Type.Optional(Loose),
  agent: Type.Optional(Loose),
  models: Type.Optional(Loose),
  channels: Type.Optional(Loose),
  web: Type.Optional(Loose),
  cron: Type.Optional(Loose),
  plugins: Type.Optional(Loose),
  discovery: Type.Optional(Loose),
  identity: Type.Optional(Loose),
  wizard: Type.Optional(Loose),
  tools: Type.Optional(Loose),
  audio: Type.Optional(Loose),
  media: Type.Optional(Loose),
  routing: Type.Optional(Loose),
  messages: Type.Optional(Loose),
  talk: Type.Optional(Loose),
  skills: Type.Optional(Loose),
  ui: Type.Optional(Loose),
  env: Type.Optional(Loose),
  auth: Type.Optional(Loose),
  diagnostics: Type.Optional(Loose),
  update: Type.Optional(Loose),
  nodeHost: Type.Optional(Loose),
  broadcast: Type.Optional(Loose),
  approvals: Type.Optional(Loose),
  memory: Type.Optional(Loose),
};
