/**
 * SPSC rings over SharedArrayBuffer and the typed link built on them.
 * See docs/ring.md for the layout and the wait strategy.
 */
export { Link } from "./link.js";
export type {
  ControlFrame,
  EventHandlers,
  LinkFrame,
  LinkHandlers,
  LinkOptions,
  LinkSide,
  RequestContext,
  RequestHandlers,
  RequestName,
  RequestOptions,
  RequestParams,
  RequestResult,
  WorkerProtocol,
} from "./link-types.js";
export { connectWorker, createWorkerLinkData, isWorkerLinkData, bumpHeartbeat, readHeartbeat } from "./worker-link.js";
export type { ConnectWorkerOptions, WorkerEndpoint, WorkerLinkData } from "./worker-link.js";
export { createRingCodec } from "./ring-codec.js";
export type { RingCodec } from "./ring-codec.js";
export { RingProducer } from "./ring-producer.js";
export type { BlockingWriteOptions } from "./ring-producer.js";
export { RingConsumer } from "./ring-consumer.js";
export type { BatchLimits, RecordCallback } from "./ring-consumer.js";
export { RingReader } from "./ring-reader.js";
export type { RingReaderOptions } from "./ring-reader.js";
export { MainRingWriter } from "./main-ring-writer.js";
export type { MainRingWriterOptions, OverflowStats, RecordSink } from "./main-ring-writer.js";
export { attachRing, closeRing, createRingBuffers, maxPayloadFor, readRingStats, CLOSED_BOTH, CLOSED_CONSUMER, CLOSED_PRODUCER } from "./ring-layout.js";
export type { RingBuffers, RingStats, RingView } from "./ring-layout.js";
