#!/usr/bin/env node
/**
 * The `clawdbot` executable. Its first statement replaces Node's default SIGUSR1 action
 * (open the V8 inspector on 127.0.0.1:9229, i.e. let any local user run code as us) before
 * anything else is loaded; only then is the CLI imported, dynamically — static imports
 * would be evaluated before this module's body.
 *
 * A SIGUSR1 that arrives while the CLI is still loading is ignored (with a note on stderr):
 * a restart requested during start-up would re-read the same config anyway. Once the
 * gateway installs its own handler (gateway-process.ts), this one stays as a silent no-op,
 * so the default action never comes back — not between in-process restarts, and not in
 * the other commands either.
 *
 * Residual window: Node itself arms the inspector signal during its own bootstrap, before
 * any user code runs (tens of ms); Node 20 has no flag to turn that off.
 */
let noted = false;
process.on("SIGUSR1", () => {
  if (noted || process.listenerCount("SIGUSR1") > 1) return;
  noted = true;
  process.stderr.write("clawdbot: SIGUSR1 received while starting; ignored\n");
});
// Lets the start-up signal test know the guard is armed (it cannot observe it otherwise).
if (process.env.CLAWDBOT_REPORT_SIGUSR1_GUARD === "1") process.stderr.write("clawdbot: SIGUSR1 guard armed\n");

await import("./main.js");
