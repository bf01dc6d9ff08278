/**
 * A small JSON Schema → TypeScript renderer covering the subset the protocol schemas
 * use (object, array, string/number/integer/boolean/null, const, anyOf, patternProperties,
 * unknown). Output is deterministic so staleness checks are byte-exact.
 */
type Json = Record<string, unknown>;

function isJson(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function key(name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
}

function render(schema: unknown, indent: string): string {
  if (!isJson(schema)) return "unknown";
  if ("const" in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map((s) => render(s, indent)).join(" | ");
  switch (schema.type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return `Array<${render(schema.items, indent)}>`;
    case "object": {
      const props = isJson(schema.properties) ? schema.properties : {};
      const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
      const inner = `${indent}  `;
      const lines = Object.entries(props).map(
        ([k, v]) => `${inner}${key(k)}${required.has(k) ? "" : "?"}: ${render(v, inner)};`,
      );
      if (isJson(schema.patternProperties)) {
        const values = Object.values(schema.patternProperties).map((v) => render(v, inner));
        lines.push(`${inner}[key: string]: ${values.join(" | ")};`);
      }
      return lines.length === 0 ? "Record<string, never>" : `{\n${lines.join("\n")}\n${indent}}`;
    }
    default:
      return "unknown";
  }
}

/** Renders `export type <Name> = …;` for every schema, in insertion order. */
export function renderTypes(schemas: Record<string, Json>): string {
  const names = Object.keys(schemas);
  const decls = Object.entries(schemas)
    .map(([name, schema]) => `export type ${name} = ${render(schema, "")};\n`)
    .join("\n");
  const index = names.map((n) => `  ${n}: ${n};`).join("\n");
  return `${decls}\n/** Every definition by name. */\nexport interface ProtocolTypes {\n${index}\n}\n`;
}
