/** The Baileys message content that carries one loaded outbound media (§3.4 `send` media). */
import type { LoadedMedia } from "../outbound-media.js";
import type { WaMessageContent } from "./socket-types.js";

/** Default cap on outbound media, 50 MB (`channels.whatsapp.mediaMaxMb`). */
export const WHATSAPP_MEDIA_MAX_BYTES = 50 * 1024 * 1024;

/**
 * Images, videos, voice notes and audio as such; anything else (a GIF too: WhatsApp plays
 * only MP4 videos as GIFs, `gifPlayback`) as a document with its file name.
 */
export function whatsappMediaContent(media: LoadedMedia, caption: string, gifPlayback: boolean): WaMessageContent {
  const withCaption = caption !== "" ? { caption } : {};
  switch (media.kind) {
    case "image":
      return { image: media.data, mimetype: media.mime, ...withCaption };
    case "video":
      return { video: media.data, mimetype: media.mime, ...withCaption, ...(gifPlayback ? { gifPlayback: true } : {}) };
    case "voice":
      return { audio: media.data, mimetype: "audio/ogg; codecs=opus", ptt: true };
    case "audio":
      return { audio: media.data, mimetype: media.mime };
    default:
      return { document: media.data, mimetype: media.mime, fileName: media.fileName, ...withCaption };
  }
}
