/** `clawdbot pairing list|approve <channel> <code>`: channel pairing files, read and written locally. */
import type { Command } from "commander";
import { resolveStateDir } from "../../shared/config/paths.js";
import { ChannelPairingStore } from "../../main/channels/channel-pairing-store.js";

const CHANNELS = ["telegram", "whatsapp"];

export function registerPairingCommand(program: Command, setExit: (code: number) => void): void {
  const pairing = program.command("pairing").description("approve channel senders who asked for access (DM pairing codes)");
  pairing
    .command("list [channel]")
    .description("list pending pairing requests")
    .option("--json", "print JSON")
    .action(async (channel: string | undefined, f: { json?: boolean }) => {
      const stateDir = resolveStateDir();
      const out: Record<string, unknown[]> = {};
      for (const ch of channel ? [channel] : CHANNELS) out[ch] = await new ChannelPairingStore(stateDir, ch).list();
      if (f.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        const lines = Object.entries(out).flatMap(([ch, reqs]) => (reqs as { code: string; id: string; meta?: { username?: string } }[]).map((r) => `${ch} ${r.code} from ${r.id}${r.meta?.username ? ` (@${r.meta.username})` : ""}`));
        process.stdout.write(lines.length ? `${lines.join("\n")}\n` : "No pending pairing requests.\n");
      }
      setExit(0);
    });
  pairing
    .command("approve <channel> <code>")
    .description("approve a pairing code: the sender may then message the bot")
    .option("--json", "print JSON")
    .action(async (channel: string, code: string, f: { json?: boolean }) => {
      try {
        const req = await new ChannelPairingStore(resolveStateDir(), channel.toLowerCase()).approve(code);
        process.stdout.write(f.json ? `${JSON.stringify({ ok: true, channel, id: req.id })}\n` : `Approved ${channel} sender ${req.id}.\n`);
        setExit(0);
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        setExit(1);
      }
    });
}
