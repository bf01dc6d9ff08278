/**
 * Who may reach the agent through a channel (§10.2 keys; pure).
 *
 *   DM:    disabled → drop · open → accept · allowlist → allowFrom ∪ approved, else drop
 *          pairing (default) → allowFrom ∪ approved, else a pairing code
 *   group: disabled → drop · allowlist (default) → the group must be in `groups` (or `"*"`)
 *          and, with `groupAllowFrom`, the sender in it · open → any group;
 *          then `requireMention` (per group, else `"*"`, default true) needs a mention.
 *
 * Senders match by id or `@username` (case-insensitive); `"*"` matches everyone.
 */
import type { ChannelInbound } from "../../workers/channels/channel-link-protocol.js";
import type { AccessPolicy } from "./channel-config.js";

export type AccessDecision = { action: "accept" } | { action: "drop"; reason: string } | { action: "pair" };

/** True when the sender of `msg` is on `list`. */
export function senderListed(list: readonly string[], msg: Pick<ChannelInbound, "senderId" | "senderUsername">): boolean {
  const user = msg.senderUsername?.toLowerCase();
  return list.some((e) => {
    const v = e.trim().toLowerCase().replace(/^(telegram|tg):/, "");
    return v === "*" || v === msg.senderId || (user !== undefined && (v === `@${user}` || v === user));
  });
}

export function decideAccess(policy: AccessPolicy, msg: ChannelInbound, approved: readonly string[]): AccessDecision {
  if (msg.chatType === "direct") {
    switch (policy.dmPolicy) {
      case "disabled":
        return { action: "drop", reason: "dms disabled" };
      case "open":
        return { action: "accept" };
      case "allowlist":
        return senderListed(policy.allowFrom, msg) || senderListed(approved, msg) ? { action: "accept" } : { action: "drop", reason: "sender not allowed" };
      case "pairing":
        return senderListed(policy.allowFrom, msg) || senderListed(approved, msg) ? { action: "accept" } : { action: "pair" };
    }
  }
  if (policy.groupPolicy === "disabled") return { action: "drop", reason: "groups disabled" };
  const group = policy.groups[msg.chatId] ?? policy.groups["*"];
  if (policy.groupPolicy === "allowlist") {
    if (!group) return { action: "drop", reason: "group not allowed" };
    if (policy.groupAllowFrom.length > 0 && !senderListed(policy.groupAllowFrom, msg)) return { action: "drop", reason: "group sender not allowed" };
  }
  if ((group?.requireMention ?? true) && !msg.wasMentioned) return { action: "drop", reason: "not mentioned" };
  return { action: "accept" };
}
