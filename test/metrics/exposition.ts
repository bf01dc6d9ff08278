/**
 * A strict parser of the Prometheus text exposition format (0.0.4) for tests: every line
 * must be a HELP, a TYPE or a sample of a declared family; names, label names, escapes and
 * values are checked; histogram buckets must be cumulative and end at `+Inf` = `_count`.
 * Throws on the first violation.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
  /** Value of the sample with exactly these labels (subset match when `partial`), or undefined. */
  get(name: string, labels?: Record<string, string>): number | undefined;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(s: string, line: string): number {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) throw new Error(`bad value in ${JSON.stringify(line)}`);
  return Number(s);
}

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`bad labels in ${JSON.stringify(line)}`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`bad label name ${JSON.stringify(name)} in ${JSON.stringify(line)}`);
    if (s[eq + 1] !== '"') throw new Error(`unquoted label value in ${JSON.stringify(line)}`);
    let j = eq + 2;
    let v = "";
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\") {
        const n = s[++j];
        if (n === "n") v += "\n";
        else if (n === "\\" || n === '"') v += n;
        else throw new Error(`bad escape in ${JSON.stringify(line)}`);
      } else v += s[j];
    }
    if (s[j] !== '"') throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
    if (name in out) throw new Error(`duplicate label ${name} in ${JSON.stringify(line)}`);
    out[name] = v;
    i = j + 1;
    if (s[i] === ",") i++;
    else if (i < s.length) throw new Error(`junk after label in ${JSON.stringify(line)}`);
  }
  return out;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (name.endsWith(suffix)) {
      const base = name.slice(0, -suffix.length);
      const t = types.get(base);
      if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
    }
  }
  return undefined;
}

export function parseExposition(text: string): Exposition {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`bad comment line ${JSON.stringify(line)}`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`bad metric name ${name}`);
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) throw new Error(`bad type ${rest}`);
        if (types.has(name)) throw new Error(`duplicate TYPE for ${name}`);
        types.set(name, rest);
      } else {
        if (helps.has(name)) throw new Error(`duplicate HELP for ${name}`);
        helps.add(name);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`bad sample line ${JSON.stringify(line)}`);
    const name = m[1]!;
    if (familyOf(name, types) === undefined) throw new Error(`sample ${name} has no TYPE`);
    samples.push({ name, labels: m[2] === undefined ? {} : parseLabels(m[2], line), value: parseValue(m[3]!, line) });
  }
  // Histograms: cumulative buckets, +Inf present and equal to _count, per label set.
  for (const [family, type] of types) {
    if (type !== "histogram") continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples) {
      if (s.name !== `${family}_bucket`) continue;
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const key = JSON.stringify(Object.entries(rest).sort());
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      let prev = -1;
      for (const b of buckets) {
        if (b.value < prev) throw new Error(`${family} buckets not cumulative for ${key}`);
        prev = b.value;
      }
      const last = buckets[buckets.length - 1]!;
      if (last.labels.le !== "+Inf") throw new Error(`${family} missing +Inf bucket for ${key}`);
      const count = samples.find((s) => s.name === `${family}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key);
      if (count === undefined || count.value !== last.value) throw new Error(`${family}_count != +Inf bucket for ${key}`);
    }
  }
  const get = (name: string, labels: Record<string, string> = {}): number | undefined => {
    const want = Object.entries(labels);
    return samples.find((s) => s.name === name && want.every(([k, v]) => s.labels[k] === v) && Object.keys(s.labels).length === want.length)?.value;
  };
  return { types, samples, get };
}
