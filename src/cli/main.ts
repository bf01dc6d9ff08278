#!/usr/bin/env node
/**
 * `clawdbot` — the gateway command line. Global flags `--profile <name>` / `--dev`
 * must precede the subcommand; they isolate state dir, config path and ports.
 */
import { Command } from "commander";
import { applyProfileEnv, resolveProfileFlag } from "../shared/config/paths.js";
import { addGatewayRunOptions, gatewayRunAction, GATEWAY_RUN_HELP } from "./commands/gateway-run-command.js";
import { registerAgentCommand } from "./commands/agent-command.js";
import { registerDoctorCommand } from "./commands/doctor-command.js";
import { registerLogsCommand } from "./commands/logs-command.js";
import { registerRpcCommands } from "./commands/rpc-commands.js";
import { registerServiceCommands } from "./commands/service-commands.js";
import { registerSetupCommand } from "./commands/setup-command.js";
import { registerMessageCommand } from "./commands/message-command.js";
import { registerChannelsCommand } from "./commands/channels-command.js";
import { registerPairingCommand } from "./commands/pairing-command.js";
import { CLI_VERSION } from "./version.js";

let exitCode = 0;
const setExit = (code: number): void => {
  exitCode = code;
};

const program = new Command();
program
  .name("clawdbot")
  .description("clawgate: the clawdbot Gateway daemon (protocol 3) and its command line")
  .version(CLI_VERSION, "-V, --version")
  .option("--profile <name>", "isolate state dir, config and service names under a named profile")
  .option("--dev", "dev profile: ~/.clawdbot-dev, port 19001")
  .showHelpAfterError("(add --help for usage)")
  // Options belong to the command they follow: `gateway install --port 1` must reach
  // `install`, not `gateway`; global flags precede the subcommand (§8.7).
  .enablePositionalOptions()
  .hook("preAction", () => {
    const opts = program.opts<{ profile?: string; dev?: boolean }>();
    const profile = resolveProfileFlag(opts);
    if (profile) applyProfileEnv(profile, process.env);
  });

const gateway = addGatewayRunOptions(
  program
    .command("gateway")
    .description("run the gateway in the foreground, or manage it (run, call, health, …)")
    .addHelpText("after", GATEWAY_RUN_HELP),
)
  .enablePositionalOptions()
  .action(async (flags) => setExit(await gatewayRunAction(flags)));

addGatewayRunOptions(gateway.command("run").description("run the gateway in the foreground").addHelpText("after", GATEWAY_RUN_HELP)).action(
  async (flags) => setExit(await gatewayRunAction(flags)),
);

registerRpcCommands(program, gateway, setExit);
registerServiceCommands(gateway, setExit);
registerLogsCommand(program, setExit);
registerSetupCommand(program, setExit);
registerDoctorCommand(program, setExit);
registerAgentCommand(program, setExit);
registerMessageCommand(program, setExit);
registerChannelsCommand(program, setExit);
registerPairingCommand(program, setExit);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  exitCode = 1;
}
process.exit(exitCode);
