/**
 * TypeBox schema of the `gateway` section (§8.2) plus clawgate's own limits
 * (`policy`, `preAuth`, `presence`). Every object here is closed: an unknown key is a
 * validation error, so a typo never silently disables a setting.
 */
import Type from "typebox";
import { GatewayMetricsSchema } from "./gateway-metrics.js";
import { GatewayClusterSchema } from "./gateway-cluster.js";
import type { Static } from "typebox";

import { Bool, closed, NonNegInt, PortSchema, PosInt, Str, StrList } from "./common.js";

const ControlUiSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    basePath: Type.Optional(Str),
    allowInsecureAuth: Type.Optional(Bool),
    allowedOrigins: Type.Optional(StrList),
  },
  closed,
);

const AuthSchema = Type.Object(
  {
    mode: Type.Optional(Type.Enum(["token", "password", "none"])),
    token: Type.Optional(Str),
    password: Type.Optional(Str),
    allowTailscale: Type.Optional(Bool),
  },
  closed,
);

const TailscaleSchema = Type.Object(
  {
    mode: Type.Optional(Type.Enum(["off", "serve", "funnel"])),
    resetOnExit: Type.Optional(Bool),
  },
  closed,
);

const RemoteSchema = Type.Object(
  {
    url: Type.Optional(Str),
    transport: Type.Optional(Type.Enum(["ssh", "direct"])),
    token: Type.Optional(Str),
    password: Type.Optional(Str),
    tlsFingerprint: Type.Optional(Str),
    sshTarget: Type.Optional(Str),
    sshIdentity: Type.Optional(Str),
  },
  closed,
);

const ReloadSchema = Type.Object(
  {
    mode: Type.Optional(Type.Enum(["off", "restart", "hot", "hybrid"])),
    debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600000 })),
  },
  closed,
);

const TlsSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    autoGenerate: Type.Optional(Bool),
    certPath: Type.Optional(Str),
    keyPath: Type.Optional(Str),
    caPath: Type.Optional(Str),
  },
  closed,
);

const FetchLimitsShape = {
  allowUrl: Type.Optional(Bool),
  allowedMimes: Type.Optional(StrList),
  maxBytes: Type.Optional(PosInt),
  maxRedirects: Type.Optional(NonNegInt),
  timeoutMs: Type.Optional(PosInt),
};

const ResponsesEndpointSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    maxBodyBytes: Type.Optional(PosInt),
    files: Type.Optional(
      Type.Object(
        {
          ...FetchLimitsShape,
          maxChars: Type.Optional(PosInt),
          pdf: Type.Optional(
            Type.Object(
              { maxPages: Type.Optional(PosInt), maxPixels: Type.Optional(PosInt), minTextChars: Type.Optional(NonNegInt) },
              closed,
            ),
          ),
        },
        closed,
      ),
    ),
    images: Type.Optional(Type.Object({ ...FetchLimitsShape }, closed)),
  },
  closed,
);

const HttpSchema = Type.Object(
  {
    endpoints: Type.Optional(
      Type.Object(
        {
          chatCompletions: Type.Optional(Type.Object({ enabled: Type.Optional(Bool) }, closed)),
          responses: Type.Optional(ResponsesEndpointSchema),
        },
        closed,
      ),
    ),
  },
  closed,
);

const NodesSchema = Type.Object(
  {
    browser: Type.Optional(
      Type.Object({ mode: Type.Optional(Type.Enum(["auto", "manual", "off"])), node: Type.Optional(Str) }, closed),
    ),
    allowCommands: Type.Optional(StrList),
    denyCommands: Type.Optional(StrList),
  },
  closed,
);

/** clawgate limits, advertised in `hello-ok.policy`. */
const PolicySchema = Type.Object(
  {
    maxPayload: Type.Optional(Type.Integer({ minimum: 1024, maximum: 268435456 })),
    maxBufferedBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: 1073741824 })),
    tickIntervalMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600000 })),
  },
  closed,
);

/** The `gateway` section. */
export const GatewaySchema = Type.Object(
  {
    port: Type.Optional(PortSchema),
    mode: Type.Optional(Type.Enum(["local", "remote"])),
    bind: Type.Optional(Type.Enum(["loopback", "lan", "tailnet", "auto", "custom"])),
    customBindHost: Type.Optional(Str),
    controlUi: Type.Optional(ControlUiSchema),
    auth: Type.Optional(AuthSchema),
    tailscale: Type.Optional(TailscaleSchema),
    remote: Type.Optional(RemoteSchema),
    reload: Type.Optional(ReloadSchema),
    tls: Type.Optional(TlsSchema),
    http: Type.Optional(HttpSchema),
    nodes: Type.Optional(NodesSchema),
    trustedProxies: Type.Optional(StrList),
    policy: Type.Optional(PolicySchema),
    metrics: Type.Optional(GatewayMetricsSchema),
    cluster: Type.Optional(GatewayClusterSchema),
    preAuth: Type.Optional(Type.Object({ maxPerIp: Type.Optional(PosInt), maxTotal: Type.Optional(PosInt), handshakeTimeoutMs: Type.Optional(PosInt) }, closed)),
    presence: Type.Optional(Type.Object({ maxEntries: Type.Optional(PosInt) }, closed)),
    /** Legacy location of the token: accepted, ignored, and reported as a warning. */
    token: Type.Optional(Str),
  },
  closed,
);

/** Root properties contributed by this file (spread into the root schema). */
export const gatewaySection = { gateway: Type.Optional(GatewaySchema) };

/** `gateway` section as written. */
export type GatewayConfig = Static<typeof GatewaySchema>;
/** `gateway.reload.mode`. */
export type ReloadMode = NonNullable<NonNullable<GatewayConfig["reload"]>["mode"]>;
/** `gateway.bind`. */
export type BindMode = NonNullable<GatewayConfig["bind"]>;

type ControlUi = NonNullable<GatewayConfig["controlUi"]>;

/** `gateway` after defaults: the defaulted keys are present. */
export type GatewayResolved = GatewayConfig & {
  reload: { mode: ReloadMode; debounceMs: number };
  policy: { maxPayload: number; maxBufferedBytes: number; tickIntervalMs: number };
  preAuth: { maxPerIp: number; maxTotal: number; handshakeTimeoutMs: number };
  presence: { maxEntries: number };
  controlUi: ControlUi & { enabled: boolean; basePath: string; allowInsecureAuth: boolean; allowedOrigins: string[] };
  trustedProxies: string[];
};
