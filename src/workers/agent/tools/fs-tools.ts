/**
 * File tools with the names and arguments of the reference agent (pi-coding-agent):
 * `read {path, offset?, limit?}`, `write {path, content}`, `edit {path, oldText, newText}`,
 * `ls {path?, limit?}`. Every path goes through `resolveInWorkspace`; files are opened with
 * O_NOFOLLOW.
 */
import { constants } from "node:fs";
import { mkdir, open, readdir } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { ToolInputError, resolveInWorkspace } from "./workspace-path.js";
import { capText, optInt, str } from "./tool-types.js";
import type { AgentTool, ToolContext } from "./tool-types.js";

/** Largest file `read`/`edit` load (bytes). */
const MAX_FILE_BYTES = 20 * 1024 * 1024;
const DEFAULT_READ_LINES = 2000;
const DEFAULT_LS_LIMIT = 500;

async function readText(file: string): Promise<string> {
  const h = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const { size } = await h.stat();
    if (size > MAX_FILE_BYTES) throw new ToolInputError(`file is ${size} bytes; the limit is ${MAX_FILE_BYTES}`);
    return await h.readFile("utf8");
  } finally {
    await h.close();
  }
}

async function writeText(file: string, content: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const h = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await h.writeFile(content, "utf8");
  } finally {
    await h.close();
  }
}

const readTool: AgentTool = {
  spec: {
    name: "read",
    description: "Read a text file in the workspace. offset is the first line (1-based), limit the number of lines (default 2000).",
    parameters: { type: "object", properties: { path: { type: "string" }, offset: { type: "integer", minimum: 1 }, limit: { type: "integer", minimum: 1 } }, required: ["path"] },
  },
  async execute(args, ctx: ToolContext) {
    const file = await resolveInWorkspace(ctx.root, str(args, "path"));
    const lines = (await readText(file)).split("\n");
    const start = Math.max(1, optInt(args, "offset") ?? 1);
    const limit = optInt(args, "limit") ?? DEFAULT_READ_LINES;
    const slice = lines.slice(start - 1, start - 1 + limit);
    const capped = capText(slice.join("\n"));
    let text = capped.text;
    const shownEnd = start - 1 + (capped.truncated ? capped.text.split("\n").length : slice.length);
    if (shownEnd < lines.length) text += `\n\n[showing lines ${start}-${shownEnd} of ${lines.length}; use offset=${shownEnd + 1} to continue]`;
    return { text, isError: false };
  },
};

const writeTool: AgentTool = {
  spec: {
    name: "write",
    description: "Create or overwrite a file in the workspace (parent directories are created).",
    parameters: { type: "object", properties: { path: { type: "string" }, content: { type: "string" } }, required: ["path", "content"] },
  },
  async execute(args, ctx) {
    const file = await resolveInWorkspace(ctx.root, str(args, "path"));
    const content = str(args, "content");
    await writeText(file, content);
    return { text: `Successfully wrote ${Buffer.byteLength(content)} bytes to ${relative(ctx.root, file)}`, isError: false };
  },
};

const editTool: AgentTool = {
  spec: {
    name: "edit",
    description: "Replace exactly one occurrence of oldText with newText in a workspace file.",
    parameters: { type: "object", properties: { path: { type: "string" }, oldText: { type: "string" }, newText: { type: "string" } }, required: ["path", "oldText", "newText"] },
  },
  async execute(args, ctx) {
    const file = await resolveInWorkspace(ctx.root, str(args, "path"));
    const oldText = str(args, "oldText");
    const newText = str(args, "newText");
    if (oldText === "") throw new ToolInputError("oldText must not be empty");
    const text = await readText(file);
    const first = text.indexOf(oldText);
    if (first < 0) throw new ToolInputError(`oldText not found in ${relative(ctx.root, file)}`);
    if (text.indexOf(oldText, first + 1) >= 0) throw new ToolInputError(`oldText occurs more than once in ${relative(ctx.root, file)}; include more context`);
    await writeText(file, text.slice(0, first) + newText + text.slice(first + oldText.length));
    return { text: `Successfully replaced text in ${relative(ctx.root, file)}`, isError: false };
  },
};

const lsTool: AgentTool = {
  spec: {
    name: "ls",
    description: "List a workspace directory (default: the workspace root). Directories end with /.",
    parameters: { type: "object", properties: { path: { type: "string" }, limit: { type: "integer", minimum: 1 } } },
  },
  async execute(args, ctx) {
    const dir = await resolveInWorkspace(ctx.root, args.path === undefined ? "." : str(args, "path"));
    const limit = optInt(args, "limit") ?? DEFAULT_LS_LIMIT;
    const entries = (await readdir(dir, { withFileTypes: true })).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort((a, b) => a.localeCompare(b));
    const shown = entries.slice(0, limit);
    let text = shown.length === 0 ? "(empty directory)" : shown.join("\n");
    if (entries.length > limit) text += `\n\n[${entries.length - limit} more entries; raise limit to see them]`;
    return { text, isError: false };
  },
};

/** The file tools, by name. */
export const FS_TOOLS: readonly AgentTool[] = [readTool, writeTool, editTool, lsTool];
