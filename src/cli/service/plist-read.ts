/**
 * A small reader for XML property lists (the subset launchd jobs use: dict, array,
 * string, integer, real, true, false, date, data). Enough to read an installed
 * LaunchAgent back for `gateway status` and `doctor`; not a general XML parser.
 */

/** A plist value. `date` and `data` are kept as their text. */
export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescape(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? "";
  });
}

interface Tag {
  name: string;
  close: boolean;
  selfClose: boolean;
  end: number;
}

class Reader {
  pos = 0;
  constructor(private readonly s: string) {}

  private skipMisc(): void {
    for (;;) {
      const rest = this.s.slice(this.pos);
      const ws = /^\s+/.exec(rest);
      if (ws) {
        this.pos += ws[0].length;
        continue;
      }
      const skip = rest.startsWith("<?") ? "?>" : rest.startsWith("<!--") ? "-->" : rest.startsWith("<!") ? ">" : null;
      if (skip === null) return;
      const end = this.s.indexOf(skip, this.pos);
      if (end < 0) throw new Error("unterminated markup in plist");
      this.pos = end + skip.length;
    }
  }

  tag(): Tag {
    this.skipMisc();
    const m = /^<(\/?)([A-Za-z]+)[^>]*?(\/?)>/.exec(this.s.slice(this.pos));
    if (!m) throw new Error(`expected a tag at offset ${this.pos}`);
    return { name: m[2] ?? "", close: m[1] === "/", selfClose: m[3] === "/", end: this.pos + m[0].length };
  }

  text(name: string): string {
    const close = `</${name}>`;
    const end = this.s.indexOf(close, this.pos);
    if (end < 0) throw new Error(`missing ${close}`);
    const raw = this.s.slice(this.pos, end);
    this.pos = end + close.length;
    return unescape(raw);
  }

  expectClose(name: string): void {
    const t = this.tag();
    if (!t.close || t.name !== name) throw new Error(`expected </${name}>`);
    this.pos = t.end;
  }

  value(): PlistValue {
    const t = this.tag();
    if (t.close) throw new Error(`unexpected </${t.name}>`);
    this.pos = t.end;
    switch (t.name) {
      case "true":
      case "false":
        if (!t.selfClose) this.expectClose(t.name);
        return t.name === "true";
      case "string":
      case "date":
      case "data":
        return t.selfClose ? "" : this.text(t.name);
      case "integer":
      case "real": {
        const n = Number(this.text(t.name).trim());
        if (!Number.isFinite(n)) throw new Error(`invalid <${t.name}>`);
        return n;
      }
      case "array":
        return t.selfClose ? [] : this.array();
      case "dict":
        return t.selfClose ? {} : this.dict();
      default:
        throw new Error(`unsupported plist element <${t.name}>`);
    }
  }

  private array(): PlistValue[] {
    const out: PlistValue[] = [];
    for (;;) {
      const t = this.tag();
      if (t.close && t.name === "array") {
        this.pos = t.end;
        return out;
      }
      out.push(this.value());
    }
  }

  private dict(): { [key: string]: PlistValue } {
    const out: { [key: string]: PlistValue } = {};
    for (;;) {
      const t = this.tag();
      this.pos = t.end;
      if (t.close && t.name === "dict") return out;
      if (t.name !== "key" || t.close) throw new Error(`expected <key> in <dict>, got <${t.close ? "/" : ""}${t.name}>`);
      const k = this.text("key");
      out[k] = this.value();
    }
  }
}

/** Parses a plist document and returns its root value. Throws on malformed input. */
export function parsePlist(text: string): PlistValue {
  const r = new Reader(text);
  const open = r.tag();
  if (open.name !== "plist" || open.close) throw new Error("not a plist: missing <plist>");
  r.pos = open.end;
  const root = r.value();
  r.expectClose("plist");
  return root;
}
