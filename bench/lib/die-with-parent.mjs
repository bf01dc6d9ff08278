/**
 * Preloaded (`--import`) into processes a bench spawns but does not own the code of
 * (the gateway CLI): when the bench process disappears without cleaning up (SIGKILL,
 * OOM), the child is re-parented and sends itself SIGTERM instead of lingering on a port.
 * The check is an unref'd timer firing twice a second: no measurable cost. Plain JS so a
 * compiled gateway can preload it without a TypeScript loader.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, "SIGTERM");
}, 500);
timer.unref();
