// `node --import ./module-load-log.mjs …`: logs every module URL the MAIN thread loads to
// stderr, one `startup-module-load <url>` line each (worker threads are not hooked).
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

const hooks = `export async function load(url, ctx, next) {
  process.stderr.write("startup-module-load " + url + "\\n");
  return next(url, ctx);
}`;
if (isMainThread) register(`data:text/javascript,${encodeURIComponent(hooks)}`);
