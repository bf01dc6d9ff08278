/**
 * One abort watcher per uWS response.
 *
 * uWS keeps a single `onAborted` handler per response (a second registration replaces the
 * first), and a response answered later than its request callback MUST have one registered
 * before that callback returns, or the process aborts. The helpers here (`readBody`,
 * `SseStream`) and the handler that uses them all need to learn about the abort, so they share
 * this one registration: the first `trackResponse(res)` registers `onAborted`, later calls get
 * the same state. After an abort `res` must not be touched again (uWS throws); `finished`
 * marks a response that was ended, so nothing answers twice.
 */
import type { HttpResponse } from "uWebSockets.js";

/** The shared life state of one response. */
export interface ResponseState {
  /** True once the client went away (or the connection was force-closed); `res` is dead. */
  readonly aborted: boolean;
  /** True once a helper ended the response; set it when ending `res` yourself. */
  finished: boolean;
  /** Aborts when the client goes away; pass it to work that should stop then. */
  readonly signal: AbortSignal;
}

class State implements ResponseState {
  finished = false;
  readonly #controller = new AbortController();

  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  abort(): void {
    this.#controller.abort(new Error("client aborted the request"));
  }
}

const states = new WeakMap<HttpResponse, State>();

/**
 * Returns the response's state, registering `onAborted` on first use. Call it synchronously
 * in the request callback (before any `await`).
 */
export function trackResponse(res: HttpResponse): ResponseState {
  let s = states.get(res);
  if (s === undefined) {
    const created = new State();
    states.set(res, created);
    res.onAborted(() => created.abort());
    s = created;
  }
  return s;
}

/** True when `res` may still be written: not aborted and not finished. */
export function isWritable(state: ResponseState): boolean {
  return !state.aborted && !state.finished;
}

/**
 * Writes a complete response once (corked, so it is also safe after an `await`); a no-op if
 * the client is gone or the response was already answered. Returns whether it wrote.
 */
export function endOnce(res: HttpResponse, state: ResponseState, status: string, headers: Readonly<Record<string, string>>, body: string): boolean {
  if (!isWritable(state)) return false;
  state.finished = true;
  res.cork(() => {
    res.writeStatus(status);
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    res.end(body);
  });
  return true;
}
