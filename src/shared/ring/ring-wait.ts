/**
 * Non-blocking sleep on a shared Int32 slot, usable on the main thread.
 *
 * `Atomics.waitAsync` is in ES2024 and Node >= 16; this project compiles against
 * ES2023 typings, so it is reached through a typed accessor instead of a global cast
 * sprinkled around the code.
 *
 * A pending `waitAsync` does NOT keep Node's event loop alive (measured: the process
 * exits with the promise unresolved). With `keepAlive` the wait holds a ref'd timer of
 * the same length for exactly its own duration, so a consumer waiting for records keeps
 * the process up, and nothing stays ref'd once it stops waiting.
 */

type WaitAsyncResult =
  | { async: false; value: "not-equal" | "timed-out" }
  | { async: true; value: Promise<"ok" | "timed-out"> };

type WaitAsyncFn = (typedArray: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;

const waitAsyncImpl = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

/** Outcome of a wait. */
export type WaitOutcome = "ok" | "not-equal" | "timed-out";

/** True when this runtime has `Atomics.waitAsync`. */
export const HAS_WAIT_ASYNC = typeof waitAsyncImpl === "function";

/**
 * Sleeps until `ctrl[index]` is notified or no longer equals `expected`, at most
 * `timeoutMs`. Never blocks the calling thread.
 * @param keepAlive hold a ref'd timer while waiting so the process stays alive (default true)
 */
export function waitAsyncOn(ctrl: Int32Array, index: number, expected: number, timeoutMs: number, keepAlive = true): Promise<WaitOutcome> {
  if (!waitAsyncImpl) {
    return Promise.reject(new Error("Atomics.waitAsync is not available; clawgate needs Node >= 20"));
  }
  const res = waitAsyncImpl.call(Atomics, ctrl, index, expected, timeoutMs);
  if (!res.async) return Promise.resolve(res.value);
  if (!keepAlive) return res.value;
  const hold = setTimeout(noop, timeoutMs + 50);
  return res.value.then(
    (v) => {
      clearTimeout(hold);
      return v;
    },
    (err: unknown) => {
      clearTimeout(hold);
      throw err;
    },
  );
}

function noop(): void {}

/** Resolves on the next turn of the event loop's check phase: lets I/O and timers run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
