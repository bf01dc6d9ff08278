/**
 * Watches a directory tree for changes, skipping dotfiles/dot-directories and `node_modules`.
 *
 * Why not just `fs.watch(root, {recursive: true})` everywhere: on macOS and Windows that is a
 * single native watch (FSEvents / ReadDirectoryChangesW) and is what we use there. On Linux,
 * Node 20 emulates it in JS with one inotify watch per *file and directory*, using sync
 * `statSync`/`readdirSync` in callbacks, and with no way to skip subtrees: a `node_modules` or
 * `.git` under the canvas root would cost thousands of inotify watches (and hit
 * `fs.inotify.max_user_watches`, ENOSPC). So on Linux we keep one non-recursive watch per
 * directory, never descend into ignored directories, and attach/detach watches as directories
 * appear and disappear.
 */
import fs from "node:fs";
import path from "node:path";

/** Options of `watchTree`. */
export interface TreeWatcherOptions {
  /** Directory to watch (must exist). */
  root: string;
  /** A path (relative to root, `/`-separated) changed; called for every non-ignored event. */
  onChange: (relPath: string) => void;
  /** A change under an ignored path was seen and dropped (diagnostics). Default: none. */
  onIgnored?: (relPath: string) => void;
  /** A watch failed (e.g. ENOSPC, EACCES). The rest of the tree keeps being watched. */
  onError: (err: unknown, dir: string) => void;
  /** Most directories watched at once on Linux; deeper trees are partially watched. Default 4096. */
  maxDirectories?: number;
}

/** A running watcher. */
export interface TreeWatcher {
  /** Resolves once the initial tree walk has attached its watches. */
  readonly ready: Promise<void>;
  close(): void;
}

/** True when any segment of a root-relative path is a dotfile/dot-directory or `node_modules`. */
export function isIgnoredPath(relPath: string): boolean {
  return relPath.split(/[\\/]/).some(isIgnoredName);
}

function isIgnoredName(name: string): boolean {
  return name.startsWith(".") || name === "node_modules";
}

function toPosix(rel: string): string {
  return path.sep === "/" ? rel : rel.split(path.sep).join("/");
}

/** Starts watching `opts.root`. */
export function watchTree(opts: TreeWatcherOptions): TreeWatcher {
  return process.platform === "darwin" || process.platform === "win32" ? watchNative(opts) : watchPerDirectory(opts);
}

function watchNative(opts: TreeWatcherOptions): TreeWatcher {
  const watcher = fs.watch(opts.root, { recursive: true }, (_event, filename) => {
    const rel = filename === null ? "" : toPosix(filename.toString());
    if (rel !== "" && isIgnoredPath(rel)) opts.onIgnored?.(rel);
    else opts.onChange(rel);
  });
  watcher.on("error", (err) => opts.onError(err, opts.root));
  return { ready: Promise.resolve(), close: () => watcher.close() };
}

function watchPerDirectory(opts: TreeWatcherOptions): TreeWatcher {
  const root = path.resolve(opts.root);
  const maxDirectories = opts.maxDirectories ?? 4096;
  const watchers = new Map<string, fs.FSWatcher>();
  let closed = false;
  let warnedLimit = false;

  const unwatchSubtree = (absDir: string): void => {
    for (const [dir, w] of watchers) {
      if (dir === absDir || dir.startsWith(absDir + path.sep)) {
        w.close();
        watchers.delete(dir);
      }
    }
  };

  const onEvent = (dir: string, event: string, name: string | Buffer | null): void => {
    if (closed) return;
    if (name === null) {
      opts.onChange(toPosix(path.relative(root, dir)));
      return;
    }
    const abs = path.join(dir, name.toString());
    const rel = toPosix(path.relative(root, abs));
    if (isIgnoredPath(rel)) {
      opts.onIgnored?.(rel);
      return;
    }
    opts.onChange(rel);
    // 'rename' = created, deleted or moved: attach or detach the watch of a directory.
    if (event === "rename") void syncDirectory(abs);
  };

  const syncDirectory = async (abs: string): Promise<void> => {
    const st = await fs.promises.lstat(abs).catch(() => null);
    if (st?.isDirectory()) await addDirectory(abs);
    else unwatchSubtree(abs);
  };

  const addDirectory = async (absDir: string): Promise<void> => {
    if (closed || watchers.has(absDir)) return;
    if (watchers.size >= maxDirectories) {
      if (!warnedLimit) opts.onError(new Error(`more than ${maxDirectories} directories; not watching ${absDir}`), absDir);
      warnedLimit = true;
      return;
    }
    let watcher: fs.FSWatcher;
    try {
      watcher = fs.watch(absDir, (event, name) => onEvent(absDir, event, name));
    } catch (err) {
      opts.onError(err, absDir);
      return;
    }
    watcher.on("error", (err) => {
      unwatchSubtree(absDir);
      opts.onError(err, absDir);
    });
    watchers.set(absDir, watcher);
    const entries = await fs.promises.readdir(absDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory() && !isIgnoredName(entry.name)) await addDirectory(path.join(absDir, entry.name));
    }
  };

  const ready = addDirectory(root);
  return {
    ready,
    close: () => {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
