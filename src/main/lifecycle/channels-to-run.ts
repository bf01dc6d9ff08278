/**
 * Whether `gateway run` loads the channels module: not with `CLAWDBOT_SKIP_CHANNELS=1`,
 * and not when the config lists no channel account (then no channel code, worker or SDK is
 * loaded and start-up costs nothing more). Adding the first channel to a running gateway's
 * config makes the gateway process restart in-process to load the module (reload mode
 * `hybrid`, see gateway-process.ts); changes to a loaded module's accounts hot-reload
 * (`restart-channel`).
 */
import { anyChannelAccount } from "../channels/channel-config.js";
import type { ChannelsLoadOptions } from "../channels/channels-loader.js";

/** The channels to run, or undefined. `readChannels` returns the live config's `channels` section. */
export function channelsToRun(readChannels: () => unknown, env: NodeJS.ProcessEnv, stateDir: string): ChannelsLoadOptions | undefined {
  if (env.CLAWDBOT_SKIP_CHANNELS === "1") return undefined;
  if (!anyChannelAccount(readChannels(), env, stateDir)) return undefined;
  return { readChannelsConfig: readChannels, env };
}
