/** Small helpers every shared-state module uses on JetStream KV: keys, errors, timeouts. */
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { GatewayError } from "../../shared/errors.js";

/** `<prefix>.<base64url id>` — ids may hold any character; KV keys may not. */
export function recordKey(prefix: string, id: string): string {
  return `${prefix}.${Buffer.from(id, "utf8").toString("base64url")}`;
}

/** The key's revision was not the expected one (`create` on an existing key, `update` after another write). */
export function isWrongRevision(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** The error a cluster operation fails with while the broker cannot be reached (or did not answer). */
export function clusterUnavailable(what: string, cause?: unknown): GatewayError {
  return new GatewayError(
    "GW_ERR_CLUSTER_UNAVAILABLE",
    `cluster broker unavailable: ${what} was not saved; retry (see health.cluster.broker)`,
    undefined,
    cause === undefined ? undefined : { cause },
  );
}

/** `p`, or GW_ERR_CLUSTER_UNAVAILABLE after `ms` (the operation may still land later). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(clusterUnavailable(what)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
