/**
 * msgpackr encoding of ring records.
 *
 * Options and why:
 * - `useRecords: false`: no shared structure table. Records would need both ends to
 *   agree on a structure registry that survives worker restarts; plain maps are
 *   self-describing and each record decodes on its own.
 * - `copyBuffers: true`: binary values are copied out of the source buffer. The source
 *   is the consumer's reusable scratch buffer, so without this a decoded Uint8Array
 *   would silently change under its owner at the next record.
 * - `mapsAsObjects: true`: maps decode to plain objects, the shape thread messages use.
 *
 * One codec per ring end: a Packr keeps encoding state, and the two directions of a link
 * live on different threads anyway.
 */
import { Packr } from "msgpackr";

/** Encodes values into ring records and decodes them back. */
export interface RingCodec {
  /** Encodes `value`. The returned bytes are only valid until the next `encode` call. */
  encode(value: unknown): Uint8Array;
  /** Decodes one record. The result never aliases `bytes`. */
  decode(bytes: Uint8Array): unknown;
}

/** Creates a codec with the project's msgpackr options. */
export function createRingCodec(): RingCodec {
  const packr = new Packr({ useRecords: false, copyBuffers: true, mapsAsObjects: true });
  return {
    encode: (value) => packr.pack(value),
    decode: (bytes) => packr.unpack(bytes) as unknown,
  };
}
