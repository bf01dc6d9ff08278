/** The remedy text of a WhatsApp send without a live socket (reference wording, §3.4). */
export function notLinkedMessage(accountId: string): string {
  return `No active WhatsApp Web listener (account: ${accountId}). Start the gateway, then link WhatsApp with: clawdbot channels login --channel whatsapp --account ${accountId}.`;
}
