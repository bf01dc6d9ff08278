/** Session store and transcripts (§3.10, §11). */
export * from "./session-key.js";
export * from "./session-store.js";
export * from "./transcript.js";
export * from "./transcript-types.js";
