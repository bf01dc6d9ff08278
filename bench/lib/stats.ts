/** Summaries of repeated runs and the fixed-width tables every bench prints. */

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order. */
  runs: number[];
}

/** Median (mean of the middle two for even counts), min and max. NaN for no values. */
export function spread(values: readonly number[]): Spread {
  const runs = [...values];
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs };
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
  return { median, min: v[0] as number, max: v[v.length - 1] as number, runs };
}

/** Formats a number with `digits` significant-ish decimals; "-" for NaN/undefined. */
export function fmt(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return "-";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)`. */
export function fmtSpread(s: Spread | undefined, digits = 0): string {
  if (!s || !Number.isFinite(s.median)) return "-";
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/** Left-aligned first column, right-aligned others, a rule under the header. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
