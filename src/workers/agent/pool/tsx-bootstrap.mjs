// piscina imports its task module inside the worker itself, and Node 20 workers ignore the
// parent's `--import tsx`; when running from TypeScript sources this shim registers tsx's
// ESM hooks first, then re-exports the real entry (workerData.agentEntry). Compiled builds
// hand piscina the .js entry directly and never load this file.
import { workerData } from "node:worker_threads";

const entry = workerData.agentEntry;
if (entry.endsWith(".ts")) {
  const { register } = await import("tsx/esm/api");
  register();
}
const mod = await import(entry);
export default mod.default;
