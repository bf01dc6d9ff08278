/**
 * First-run canvas root: created when missing, seeded with a starter `index.html` when empty,
 * so a fresh install shows something useful at `/__clawdbot__/canvas/`.
 */
import fs from "node:fs";
import path from "node:path";

/** The page written into an empty canvas root. */
export const STARTER_INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Clawdbot Canvas</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; }
  main { max-width: 32rem; padding: 2rem; text-align: center; }
  code { font-size: 0.9em; }
</style>
</head>
<body>
<main>
  <h1>Clawdbot Canvas</h1>
  <p>This page is served from your canvas folder. Edit <code>index.html</code> there (or ask your
  agent to) and connected devices reload automatically.</p>
</main>
</body>
</html>
`;

/**
 * Makes sure `root` exists; when it has no entries at all, writes the starter `index.html`.
 * Returns true when the starter page was written. A root with any content, even without an
 * `index.html`, is left alone (the 404 page then says what to create).
 */
export async function ensureCanvasRoot(root: string): Promise<boolean> {
  await fs.promises.mkdir(root, { recursive: true });
  const entries = await fs.promises.readdir(root);
  if (entries.length > 0) return false;
  try {
    // 'wx': never clobber a file created concurrently by the user.
    await fs.promises.writeFile(path.join(root, "index.html"), STARTER_INDEX_HTML, { flag: "wx" });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}
