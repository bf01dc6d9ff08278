/** `canvasHost` (§8): the canvas host worker on its own port. */
import Type from "typebox";
import type { Static } from "typebox";

import { Bool, closed, PortSchema, Str } from "./common.js";

export const CanvasHostSchema = Type.Object(
  {
    enabled: Type.Optional(Bool),
    root: Type.Optional(Str),
    port: Type.Optional(PortSchema),
    liveReload: Type.Optional(Bool),
  },
  closed,
);

/** Root properties contributed by this file (spread into the root schema). */
export const canvasHostSection = { canvasHost: Type.Optional(CanvasHostSchema) };

/** `canvasHost` section as written. */
export type CanvasHostConfig = Static<typeof CanvasHostSchema>;

/**
 * Resolved canvas host settings, as the canvas-host module takes them: every key present.
 * `root` defaults to `~/clawd/canvas` and `port` to the gateway port + 4 (resolved by the
 * lifecycle, with `CLAWDBOT_SKIP_CANVAS_HOST`); `port` 0 picks a free one at start.
 */
export type CanvasHostResolved = Required<CanvasHostConfig>;
