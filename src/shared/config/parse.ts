/**
 * JSON5 parsing with operator-facing errors that name the file, line and column.
 */
import JSON5 from "json5";

import { GatewayError } from "../errors.js";

/**
 * Parses JSON5 text. On a syntax error throws `GW_ERR_CONFIG_PARSE` with
 * `details: {file, line, column}` and a message like
 * `/home/u/.clawdbot/clawdbot.json: JSON5 parse error at line 3, column 6: invalid character ']'`.
 */
export function parseJson5(text: string, file: string): unknown {
  try {
    return JSON5.parse(text) as unknown;
  } catch (err) {
    const e = err as Error & { lineNumber?: number; columnNumber?: number };
    const reason = e.message.replace(/^JSON5: /, "").replace(/ at \d+:\d+$/, "");
    const line = typeof e.lineNumber === "number" ? e.lineNumber : undefined;
    const column = typeof e.columnNumber === "number" ? e.columnNumber : undefined;
    const where = line !== undefined ? ` at line ${line}, column ${column ?? 0}` : "";
    throw new GatewayError("GW_ERR_CONFIG_PARSE", `${file}: JSON5 parse error${where}: ${reason}`, {
      file,
      line,
      column,
    }, { cause: err });
  }
}
