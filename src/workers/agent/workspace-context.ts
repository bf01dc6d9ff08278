/**
 * The workspace's bootstrap files in the system prompt (§11.3: "System prompt built from
 * workspace files"): AGENTS.md, SOUL.md, TOOLS.md, IDENTITY.md, USER.md, HEARTBEAT.md and
 * BOOTSTRAP.md from the agent's workspace root, in that order, each cut at 20,000 characters
 * (the reference's default `bootstrapMaxChars`). Missing and empty files are left out.
 *
 * Symlinks are not followed (`O_NOFOLLOW`): the file tools are confined to the workspace, and
 * a link named AGENTS.md must not carry a file from elsewhere on the machine to the model
 * provider. Only regular files are read, and at most what the cap can use.
 *
 * Read once per second per workspace and pool thread at most: a thread running hundreds of
 * turns a second does not stat seven files for each; an edit shows in the next turn after
 * at most a second.
 */
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";

/** The bootstrap files, in prompt order. */
export const WORKSPACE_CONTEXT_FILES = ["AGENTS.md", "SOUL.md", "TOOLS.md", "IDENTITY.md", "USER.md", "HEARTBEAT.md", "BOOTSTRAP.md"] as const;

/** Characters of one file that reach the prompt. */
export const CONTEXT_FILE_MAX_CHARS = 20_000;

/** How long a workspace's files are reused before they are read again (ms). */
const CACHE_MS = 1000;

/** One loaded file. */
export interface ContextFile {
  name: string;
  content: string;
}

const cache = new Map<string, { at: number; files: Promise<ContextFile[]> }>();

/** The bootstrap files of the workspace at `root` (a real path). */
export function loadWorkspaceContext(root: string, now: number = Date.now()): Promise<ContextFile[]> {
  const hit = cache.get(root);
  if (hit !== undefined && now - hit.at < CACHE_MS) return hit.files;
  const files = readAll(root);
  cache.set(root, { at: now, files });
  return files;
}

async function readAll(root: string): Promise<ContextFile[]> {
  const read = await Promise.all(WORKSPACE_CONTEXT_FILES.map((name) => readCapped(join(root, name))));
  const files: ContextFile[] = [];
  read.forEach((content, i) => {
    if (content !== null && content.trim() !== "") files.push({ name: WORKSPACE_CONTEXT_FILES[i]!, content });
  });
  return files;
}

/** The file's text cut at the cap (with a note), or null when it is missing, not a regular file, or a symlink. */
async function readCapped(path: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return null;
    // UTF-8 takes at most 4 bytes a character: this many bytes hold the cap.
    const want = Math.min(st.size, CONTEXT_FILE_MAX_CHARS * 4);
    const buf = Buffer.alloc(want);
    const { bytesRead } = await fh.read(buf, 0, want, 0);
    const text = buf.subarray(0, bytesRead).toString("utf8");
    if (text.length <= CONTEXT_FILE_MAX_CHARS && bytesRead === st.size) return text;
    return `${text.slice(0, CONTEXT_FILE_MAX_CHARS)}\n\n[… cut: the file has ${st.size} bytes; its first ${CONTEXT_FILE_MAX_CHARS} characters are shown]`;
  } catch {
    return null;
  } finally {
    // A failed close must not fail the turn (the promise is reused for a second).
    await fh.close().catch(() => undefined);
  }
}

/** The system prompt's section for `files` (empty when there are none). */
export function workspaceContextSection(files: readonly ContextFile[]): string {
  if (files.length === 0) return "";
  const parts = ["# Workspace context", "These files from your workspace were loaded; follow them unless higher-priority instructions say otherwise."];
  if (files.some((f) => f.name === "SOUL.md")) parts.push("SOUL.md describes your persona and tone: embody it.");
  for (const f of files) parts.push("", `## ${f.name}`, "", f.content.trimEnd());
  return parts.join("\n");
}
