/**
 * A tiny `--flag value` / `--switch` parser for bench scripts (no dependency, no
 * surprises): every bench accepts `--quick` and passes unknown flags through untouched.
 */
export interface ParsedArgs {
  /** `--name value` pairs (last one wins). */
  values: Map<string, string>;
  /** Bare `--name` switches. */
  switches: Set<string>;
}

/** Parses `argv` (without node and script). A flag followed by another flag is a switch. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? "";
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq > 0) {
      values.set(a.slice(2, eq), a.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith("--")) {
      values.set(a.slice(2), next);
      i++;
    } else {
      switches.add(a.slice(2));
    }
  }
  return { values, switches };
}

/** Integer option with a default; exits the process with a message on garbage. */
export function intArg(args: ParsedArgs, name: string, dflt: number): number {
  const v = args.values.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`--${name} must be a non-negative number, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

/** Comma-separated list option. */
export function listArg(args: ParsedArgs, name: string, dflt: readonly string[]): string[] {
  const v = args.values.get(name);
  return v === undefined ? [...dflt] : v.split(",").map((s) => s.trim()).filter(Boolean);
}
