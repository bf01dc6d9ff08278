/**
 * `clawdbot channels status|logout` over the gateway RPC, and `channels login --channel
 * whatsapp` (the QR login, run locally; whatsapp-login.ts, loaded only when it runs).
 */
import type { Command } from "commander";
import { addChannelRpcFlags, channelRpc, type ChannelRpcFlags } from "./message-command.js";

interface StatusFlags extends ChannelRpcFlags {
  probe?: boolean;
}

/** Human lines of a `channels.status` payload. */
export function formatChannelsStatus(p: Record<string, unknown>): string {
  const accounts = (p.channelAccounts ?? {}) as Record<string, Record<string, unknown>[]>;
  const lines: string[] = [];
  for (const [ch, list] of Object.entries(accounts)) {
    for (const a of list) {
      const state = a.running ? (a.connected ? "connected" : "running") : "stopped";
      const probe = a.probe as { ok?: boolean; error?: string } | undefined;
      const extra = [a.mode ? `mode ${String(a.mode)}` : "", a.lastError ? `error: ${String(a.lastError)}` : "", probe ? `probe ${probe.ok ? "ok" : `failed (${probe.error ?? "?"})`}` : ""].filter(Boolean);
      lines.push(`${ch} ${String(a.accountId)}: ${state}${extra.length ? ` · ${extra.join(" · ")}` : ""}`);
    }
  }
  return lines.length ? `${lines.join("\n")}\n` : "No channels configured.\n";
}

interface LoginFlags {
  channel: string;
  account?: string;
  force?: boolean;
}

export function registerChannelsCommand(program: Command, setExit: (code: number) => void): void {
  const channels = program.command("channels").description("channel accounts of the running gateway");
  channels
    .command("login")
    .description("link a WhatsApp account: prints the QR in the terminal (stop the gateway first, or use web.login.* against it)")
    .requiredOption("--channel <channel>", "whatsapp")
    .option("--account <id>", "account id (default: default)")
    .option("--force", "relink even when already linked")
    .action(async (f: LoginFlags) => {
      if (f.channel.trim().toLowerCase() !== "whatsapp") {
        process.stderr.write(`channels login supports --channel whatsapp only (Telegram is configured with a bot token: channels.telegram.botToken or TELEGRAM_BOT_TOKEN).\n`);
        return setExit(1);
      }
      const { runWhatsAppLogin } = await import("./whatsapp-login.js");
      setExit(await runWhatsAppLogin({ ...(f.account ? { accountId: f.account } : {}), force: f.force === true }));
    });
  addChannelRpcFlags(channels.command("status").description("show channel accounts (probe with --probe)").option("--probe", "check credentials against the platform")).action(
    async (f: StatusFlags) => {
      const r = await channelRpc("channels.status", f.probe ? { probe: true } : {}, f);
      if (!r) return setExit(1);
      process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : formatChannelsStatus(r));
      setExit(0);
    },
  );
  addChannelRpcFlags(
    channels.command("logout").description("stop an account and forget its session").requiredOption("--channel <channel>", "telegram | whatsapp").option("--account <id>", "account id"),
  ).action(async (f: ChannelRpcFlags & { channel: string; account?: string }) => {
    const r = await channelRpc("channels.logout", { channel: f.channel, ...(f.account ? { accountId: f.account } : {}) }, f);
    if (!r) return setExit(1);
    process.stdout.write(f.json ? `${JSON.stringify(r)}\n` : `Logged out ${String(r.channel)} account ${String(r.accountId)}.\n`);
    setExit(0);
  });
}
