/**
 * The one cache of st3d: simulator builds, synthesis results, partition areas, reports.
 *
 * Root: `$ST3D_CACHE` if set, else `$XDG_CACHE_HOME/st3d`, else `~/.cache/st3d` (never the
 * st3d installation).  `cacheRoot()` is the real path; every message that mentions the cache
 * names it.
 *
 * An entry is a folder `<root>/<kind>/<key>/` (key: a content hash the caller computes from
 * everything the entry depends on).  Rules, so that any number of st3d processes (also on
 * several nodes sharing one file system) can use one cache at once:
 *   - an entry is built in a private temporary folder `<root>/<kind>/.tmp-<key>-<pid>-<rand>/`,
 *     then published by one atomic `rename`; a reader never sees half an entry;
 *   - the last file written into the temporary folder is `.st3d-entry.json`: the sha256 of every
 *     file of the entry (plus the caller's small JSON value); an entry without it, or whose files
 *     no longer match it, is incomplete or corrupt: it is moved aside (atomic rename into
 *     `<root>/<kind>/.trash-*`) and rebuilt, never used and never left failing forever;
 *   - two processes that build the same key at once both succeed: the first rename wins, the
 *     loser discards its own copy and uses the winner's.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { cacheKey, cacheRoot, ENTRY_MARKER, fileHash, readEntry } from "./entry.mjs";

// the read side (root, key, marker, verification) is plain JavaScript, shared with the launcher
export { cacheKey, cacheRoot, ENTRY_MARKER };

interface Marker<T> {
  key: string;
  files: Record<string, string>;
  value: T;
}

function listFiles(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, p));
    else if (e.isFile() && p !== ENTRY_MARKER) out.push(p);
  }
  return out.sort();
}

function discard(kindDir: string, dir: string): void {
  const trash = path.join(kindDir, `.trash-${path.basename(dir)}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  try {
    fs.renameSync(dir, trash);
  } catch {
    return; // someone else moved or replaced it already
  }
  fs.rmSync(trash, { recursive: true, force: true });
}

function seal<T>(tmp: string, key: string, value: T): void {
  const files: Record<string, string> = {};
  for (const rel of listFiles(tmp)) files[rel] = fileHash(path.join(tmp, rel));
  fs.writeFileSync(path.join(tmp, ENTRY_MARKER), JSON.stringify({ key, files, value } satisfies Marker<T>, null, 1) + "\n");
}

/** Publish a sealed temporary folder as `dir`; false when another process published first. */
function publish(tmp: string, dir: string): boolean {
  try {
    fs.renameSync(tmp, dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "EPERM") {
      fs.rmSync(tmp, { recursive: true, force: true });
      return false;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

export interface CacheHit<T> {
  /** the entry folder (read only: never write into a published entry) */
  dir: string;
  value: T;
  /** true when this call found the entry already built */
  hit: boolean;
}

export interface CacheOptions {
  /** override the root (tests); default cacheRoot() */
  root?: string;
}

function paths(kind: string, key: string, opts: CacheOptions) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(kind) || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) throw new Error(`internal error: bad cache kind/key '${kind}'/'${key}'`);
  const kindDir = path.join(opts.root ?? cacheRoot(), kind);
  fs.mkdirSync(kindDir, { recursive: true });
  const dir = path.join(kindDir, key);
  const tmp = path.join(kindDir, `.tmp-${key}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  return { kindDir, dir, tmp };
}

/**
 * The entry `<kind>/<key>`, built by `build(tmpDir)` when it is missing, incomplete or corrupt.
 * `build` writes the entry's files into `tmpDir` (a fresh empty folder) and returns a small
 * JSON-serializable value stored with the entry.  Never throws half an entry into the cache.
 */
export async function cached<T>(kind: string, key: string, build: (tmpDir: string) => Promise<T>, opts: CacheOptions = {}): Promise<CacheHit<T>> {
  const { kindDir, dir, tmp } = paths(kind, key, opts);
  for (let attempt = 0; attempt < 3; attempt++) {
    const e = readEntry<T>(dir, key);
    if (e.ok) return { dir, value: e.value, hit: true };
    if (e.exists) discard(kindDir, dir);
    fs.mkdirSync(tmp, { recursive: true });
    let value: T;
    try {
      value = await build(tmp);
      seal(tmp, key, value);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    if (publish(tmp, dir)) return { dir, value, hit: false };
    // another process won the race: use its entry (verified on the next turn of the loop)
  }
  throw new Error(`cache entry ${dir} could not be published (three concurrent rebuilds); remove it and retry`);
}

/** Synchronous twin of `cached` (for callers that cannot be async). */
export function cachedSync<T>(kind: string, key: string, build: (tmpDir: string) => T, opts: CacheOptions = {}): CacheHit<T> {
  const { kindDir, dir, tmp } = paths(kind, key, opts);
  for (let attempt = 0; attempt < 3; attempt++) {
    const e = readEntry<T>(dir, key);
    if (e.ok) return { dir, value: e.value, hit: true };
    if (e.exists) discard(kindDir, dir);
    fs.mkdirSync(tmp, { recursive: true });
    let value: T;
    try {
      value = build(tmp);
      seal(tmp, key, value);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    if (publish(tmp, dir)) return { dir, value, hit: false };
  }
  throw new Error(`cache entry ${dir} could not be published (three concurrent rebuilds); remove it and retry`);
}
