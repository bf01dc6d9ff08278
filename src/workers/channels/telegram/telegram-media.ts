/**
 * One outbound media message through the Bot API: the method that fits the media's kind
 * (sendPhoto, sendAnimation, sendVideo, sendVoice, sendAudio, else sendDocument), the bytes
 * uploaded as multipart (`InputFile`), the caption and forum topic as given.
 */
import { InputFile, type Api } from "grammy";
import type { LoadedMedia } from "../outbound-media.js";

export interface SentTelegramMessage {
  message_id: number;
  chat: { id: number };
}

export function sendTelegramMedia(api: Api, chatId: string, media: LoadedMedia, caption: string, threadOpts: { message_thread_id?: number }): Promise<SentTelegramMessage> {
  const file = new InputFile(media.data, media.fileName);
  const opts = { ...threadOpts, ...(caption !== "" ? { caption } : {}) };
  switch (media.kind) {
    case "image":
      return api.sendPhoto(chatId, file, opts);
    case "animation":
      return api.sendAnimation(chatId, file, opts);
    case "video":
      return api.sendVideo(chatId, file, opts);
    case "voice":
      return api.sendVoice(chatId, file, opts);
    case "audio":
      return api.sendAudio(chatId, file, opts);
    default:
      return api.sendDocument(chatId, file, opts);
  }
}
