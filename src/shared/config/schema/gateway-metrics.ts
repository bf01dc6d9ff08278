/** `gateway.metrics`: the Prometheus endpoint `GET /metrics` on the gateway port (docs/metrics.md). */
import Type from "typebox";
import type { Static } from "typebox";

export const GatewayMetricsSchema = Type.Object(
  {
    /** Serve `GET /metrics`. Default true (prom-client loads at the first scrape). */
    enabled: Type.Optional(Type.Boolean()),
    /** Serve it without `Authorization: Bearer <gateway token>`. Default false. */
    public: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** `gateway.metrics` as written. */
export type GatewayMetricsConfig = Static<typeof GatewayMetricsSchema>;
