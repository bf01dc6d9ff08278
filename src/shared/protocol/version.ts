/** Wire protocol version spoken by this gateway (clawdbot 2026.1.24 = protocol 3). */
export const PROTOCOL_VERSION = 3;
