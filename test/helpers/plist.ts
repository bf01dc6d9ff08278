/**
 * A strict XML property-list parser for tests, written independently of the one in
 * src/cli/service so that generated plists are checked by a second reader: tokenises
 * into tags/text, requires balanced elements, alternating <key>/value in dicts, known
 * element names only, and decodes the XML entities.
 */
export type Plist = string | number | boolean | Plist[] | { [key: string]: Plist };

type Token = { kind: "open" | "close" | "empty"; name: string } | { kind: "text"; text: string };

function decode(text: string): string {
  if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text)) throw new Error(`bare & in ${JSON.stringify(text)}`);
  if (/[<>]/.test(text)) throw new Error(`unescaped markup in ${JSON.stringify(text)}`);
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

function tokenize(xml: string): Token[] {
  const body = xml.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, "").replace(/<!DOCTYPE[^>]*>/, "").replace(/<!--[\s\S]*?-->/g, "");
  const out: Token[] = [];
  const re = /<(\/?)([a-zA-Z]+)(?:\s+[^>]*?)?(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(body)) !== null) {
    if (m.index !== consumed) throw new Error(`unparsable input at ${consumed}`);
    consumed = re.lastIndex;
    if (m[4] !== undefined) out.push({ kind: "text", text: m[4] });
    else out.push({ kind: m[1] === "/" ? "close" : m[3] === "/" ? "empty" : "open", name: m[2]! });
  }
  if (consumed !== body.length) throw new Error("trailing garbage");
  return out;
}

/** Parses a plist document into plain values. Throws on anything malformed. */
export function parsePlistStrict(xml: string): Plist {
  const tokens = tokenize(xml);
  let i = 0;
  const skipBlank = (): void => {
    while (tokens[i]?.kind === "text" && (tokens[i] as { text: string }).text.trim() === "") i++;
  };
  const expect = (kind: "open" | "close", name: string): void => {
    skipBlank();
    const t = tokens[i++];
    if (!t || t.kind !== kind || t.name !== name) throw new Error(`expected ${kind} <${name}>, got ${JSON.stringify(t)}`);
  };
  const textOf = (name: string): string => {
    const t = tokens[i];
    let text = "";
    if (t?.kind === "text") {
      text = decode(t.text);
      i++;
    }
    expect("close", name);
    return text;
  };
  const value = (): Plist => {
    skipBlank();
    const t = tokens[i++];
    if (!t || t.kind === "text" || t.kind === "close") throw new Error(`expected a value, got ${JSON.stringify(t)}`);
    if (t.kind === "empty") {
      if (t.name === "true") return true;
      if (t.name === "false") return false;
      if (t.name === "array") return [];
      if (t.name === "dict") return {};
      if (t.name === "string") return "";
      throw new Error(`unexpected <${t.name}/>`);
    }
    switch (t.name) {
      case "string":
        return textOf("string");
      case "integer":
        return Number.parseInt(textOf("integer"), 10);
      case "array": {
        const arr: Plist[] = [];
        for (;;) {
          skipBlank();
          const n = tokens[i];
          if (n?.kind === "close" && n.name === "array") {
            i++;
            return arr;
          }
          arr.push(value());
        }
      }
      case "dict": {
        const obj: { [key: string]: Plist } = {};
        for (;;) {
          skipBlank();
          const n = tokens[i];
          if (n?.kind === "close" && n.name === "dict") {
            i++;
            return obj;
          }
          expect("open", "key");
          const k = textOf("key");
          if (k in obj) throw new Error(`duplicate key ${k}`);
          obj[k] = value();
        }
      }
      default:
        throw new Error(`unknown element <${t.name}>`);
    }
  };
  expect("open", "plist");
  const root = value();
  expect("close", "plist");
  skipBlank();
  if (i !== tokens.length) throw new Error("content after </plist>");
  return root;
}
