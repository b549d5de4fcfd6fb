/**
 * The one cache of st3d: simulator builds, synthesis results, partition areas, reports.
 * docs/CACHE.md explains it to users.
 *
 * Root: `$ST3D_CACHE` if set, else `$XDG_CACHE_HOME/st3d`, else `~/.cache/st3d` (never the
 * st3d installation, never the working folder).  `cacheRoot()` is the real path; every message
 * that mentions the cache names it.
 *
 * An entry is a folder `<root>/<kind>/<key>/` (key: a content hash the caller computes from
 * everything the entry depends on: sources, tool versions, options).  Rules, so that any
 * number of st3d processes (also on several nodes sharing one file system) can use one cache
 * at once:
 *   - an entry is built in a private temporary folder
 *     `<root>/<kind>/.tmp-<key>-<host>-<pid>-<rand>/`, then published by one atomic `rename`;
 *     a reader never sees half an entry;
 *   - the last file written into the temporary folder is `.st3d-entry.json`: the sha256 of every
 *     file of the entry (plus the caller's small JSON value); an entry without it, or whose files
 *     no longer match it (truncated, edited, deleted), is incomplete or corrupt: it is moved aside
 *     (atomic rename into `<root>/<kind>/.trash-*`) and rebuilt, never used and never left
 *     failing forever;
 *   - while one process builds an entry it holds `<root>/<kind>/.lock-<key>` (created with
 *     O_EXCL, its mtime refreshed every few seconds); another process that needs the same entry
 *     waits for it instead of building it a second time.  A lock whose holder died (same host:
 *     its pid is gone; another host: no refresh for 2 min) is taken over.  The lock only saves
 *     work: correctness comes from the atomic publish — two processes that build the same key
 *     at once both succeed, the first rename wins and the other uses the winner's entry;
 *   - temporary folders left by killed processes are removed by the next process that uses
 *     the kind (same host: their pid is gone; other hosts: after 7 days).
 * Entries are read only: never write into a published entry (run simulations in a private
 * folder next to your outputs, with the entry's binary).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cacheKey, cacheRoot, ENTRY_MARKER, fileHash, listFiles, readEntry } from "./entry.mjs";

// the read side (root, key, marker, verification) is plain JavaScript, shared with the launcher (bin/st3d.js)
export { cacheKey, cacheRoot, ENTRY_MARKER };

interface Marker<T> {
  key: string;
  /** random id of this build (so a process never discards an entry it did not inspect) */
  id: string;
  files: Record<string, string>;
  value: T;
}

const HOST = os.hostname().replace(/[^A-Za-z0-9.]/g, "_").slice(0, 40) || "host";

function markerId(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, ENTRY_MARKER), "utf8")) as Marker<unknown>).id;
  } catch {
    return undefined;
  }
}

/** Move a corrupt entry aside and delete it — unless it was replaced since we inspected it. */
function discard(kindDir: string, dir: string, seenId: string | undefined): void {
  if (markerId(dir) !== seenId) return; // another process rebuilt it meanwhile
  const trash = path.join(kindDir, `.trash-${path.basename(dir)}-${HOST}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
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
  const m: Marker<T> = { key, id: crypto.randomBytes(8).toString("hex"), files, value };
  fs.writeFileSync(path.join(tmp, ENTRY_MARKER), JSON.stringify(m, null, 1) + "\n");
}

/** Publish a sealed temporary folder as `dir`; false when another process published first. */
function publish(tmp: string, dir: string): boolean {
  try {
    fs.renameSync(tmp, dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fs.rmSync(tmp, { recursive: true, force: true });
    if (code === "ENOTEMPTY" || code === "EEXIST" || code === "EPERM") return false;
    throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** `.tmp-<key>-<host>-<pid>-<rand>` or `.trash-<key>-<host>-<pid>-<rand>` left by a dead process: remove. */
function sweep(kindDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(kindDir);
  } catch {
    return;
  }
  const week = 7 * 24 * 3600 * 1000;
  for (const n of names) {
    const m = /^\.(?:tmp|trash)-.*-([^-]+)-(\d+)-[0-9a-f]{8}(?:\.old)?$/.exec(n);
    if (!m) continue;
    const [, host, pid] = m;
    const p = path.join(kindDir, n);
    let dead = false;
    if (host === HOST) dead = !pidAlive(Number(pid));
    else {
      try {
        dead = Date.now() - fs.statSync(p).mtimeMs > week;
      } catch {
        continue;
      }
    }
    if (dead) fs.rmSync(p, { recursive: true, force: true });
  }
}

interface LockInfo {
  host: string;
  pid: number;
  started: number;
}

const LOCK_REFRESH_MS = 3000;
const LOCK_STALE_OTHER_HOST_MS = 120_000;

class BuildLock {
  private timer?: NodeJS.Timeout;
  constructor(readonly file: string) {
    this.timer = setInterval(() => {
      try {
        const now = new Date();
        fs.utimesSync(this.file, now, now);
      } catch {
        /* taken over or removed: nothing to refresh */
      }
    }, LOCK_REFRESH_MS);
    this.timer.unref?.();
  }
  release(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    try {
      const info = JSON.parse(fs.readFileSync(this.file, "utf8")) as LockInfo;
      if (info.pid === process.pid && info.host === HOST) fs.rmSync(this.file, { force: true });
    } catch {
      /* already gone */
    }
  }
}

/** Take the build lock, or report who holds it (a live holder). */
function tryLock(file: string): BuildLock | LockInfo {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, "wx");
      fs.writeSync(fd, JSON.stringify({ host: HOST, pid: process.pid, started: Date.now() } satisfies LockInfo));
      fs.closeSync(fd);
      return new BuildLock(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let info: LockInfo;
    let mtime: number;
    try {
      const text = fs.readFileSync(file, "utf8");
      mtime = fs.statSync(file).mtimeMs;
      info = JSON.parse(text) as LockInfo;
    } catch {
      // half-written by its creator, or just released: look again (a garbled lock older than a minute is stale)
      try {
        if (Date.now() - fs.statSync(file).mtimeMs > 60_000) fs.rmSync(file, { force: true });
      } catch {
        /* gone */
      }
      continue;
    }
    const stale = info.host === HOST ? !pidAlive(info.pid) : Date.now() - mtime > LOCK_STALE_OTHER_HOST_MS;
    if (!stale) return info;
    try {
      // take over only the stale lock we inspected
      const again = JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
      if (again.pid === info.pid && again.host === info.host && again.started === info.started) fs.rmSync(file, { force: true });
    } catch {
      /* gone already */
    }
  }
  return { host: "?", pid: 0, started: 0 };
}

export interface CacheHit<T> {
  /** the entry folder (read only: never write into a published entry) */
  dir: string;
  value: T;
  /** true when this call found the entry already built (by an earlier or a concurrent process) */
  hit: boolean;
  /** why an existing entry was thrown away and rebuilt, if it was */
  rebuilt?: string;
}

export interface CacheOptions {
  /** override the root (tests); default cacheRoot() */
  root?: string;
  /** messages for the user (each names the real entry path) */
  log?: (msg: string) => void;
  /** poll interval while another process builds the entry (ms, default 250) */
  pollMs?: number;
}

function paths(kind: string, key: string, opts: CacheOptions) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(kind) || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(key)) throw new Error(`internal error: bad cache kind/key '${kind}'/'${key}'`);
  const kindDir = path.join(opts.root ?? cacheRoot(), kind);
  try {
    fs.mkdirSync(kindDir, { recursive: true });
  } catch (e) {
    throw new Error(`cannot create the st3d cache folder ${kindDir}: ${(e as Error).message} (set ST3D_CACHE to a writable folder)`);
  }
  const dir = path.join(kindDir, key);
  const tmp = () => path.join(kindDir, `.tmp-${key}-${HOST}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  return { kindDir, dir, tmp, lock: path.join(kindDir, `.lock-${key}`) };
}

type Step<T> = { done: CacheHit<T> } | { wait: LockInfo } | { build: { lock: BuildLock | null; rebuilt?: string } };

/** One look at the entry: use it, wait for its builder, or build it. */
function step<T>(kindDir: string, dir: string, key: string, lockFile: string, rebuilt: string | undefined, log: (m: string) => void): Step<T> {
  const e = readEntry<T>(dir, key);
  if (e.ok) return { done: { dir, value: e.value, hit: true, rebuilt } };
  const l = tryLock(lockFile);
  if (!(l instanceof BuildLock)) {
    if (l.pid) return { wait: l };
    return { build: { lock: null, rebuilt } }; // could not settle the lock: build without it
  }
  // we hold the lock: the entry may have been published just before we took it
  const e2 = readEntry<T>(dir, key);
  if (e2.ok) {
    l.release();
    return { done: { dir, value: e2.value, hit: true, rebuilt } };
  }
  if (e2.exists) {
    log(`cache entry ${dir} is incomplete or corrupt (${e2.why}): rebuilding it`);
    discard(kindDir, dir, e2.id);
    rebuilt = e2.why;
  }
  return { build: { lock: l, rebuilt } };
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** What the protocol below asks its driver to do: wait a while, or build into a folder. */
type Ask = { sleep: number } | { build: string };

/**
 * The protocol of one cache lookup, shared by `cached` and `cachedSync`: a generator that yields
 * what to do (`sleep` while another process builds, `build` into a fresh temporary folder; the
 * driver sends back the build's value, or throws its error into the generator) and returns the
 * entry.  `sync`: the driver cannot run other work while it sleeps, so a lock held by this very
 * process (an asynchronous build in progress) is not waited for.
 */
function* lookup<T>(kind: string, key: string, opts: CacheOptions, sync: boolean): Generator<Ask, CacheHit<T>, T> {
  const { kindDir, dir, tmp, lock } = paths(kind, key, opts);
  const log = opts.log ?? (() => {});
  sweep(kindDir);
  let rebuilt: string | undefined;
  let waitedFor = 0;
  let builds = 0;
  for (;;) {
    const s = step<T>(kindDir, dir, key, lock, rebuilt, log);
    if ("done" in s) return s.done;
    let held: BuildLock | null = null;
    if ("wait" in s) {
      if (!sync || s.wait.pid !== process.pid || s.wait.host !== HOST) {
        if (waitedFor !== s.wait.pid) log(`waiting for st3d process ${s.wait.pid}${s.wait.host !== HOST ? ` on ${s.wait.host}` : ""}, which is building ${dir}`);
        waitedFor = s.wait.pid;
        yield { sleep: opts.pollMs ?? 250 };
        continue;
      }
    } else {
      held = s.build.lock;
      rebuilt = s.build.rebuilt;
    }
    if (++builds > 3) {
      held?.release();
      break;
    }
    const t = tmp();
    try {
      fs.mkdirSync(t, { recursive: true });
      let value: T;
      try {
        value = yield { build: t };
        seal(t, key, value);
      } catch (err) {
        fs.rmSync(t, { recursive: true, force: true });
        throw err;
      }
      if (publish(t, dir)) return { dir, value, hit: false, rebuilt };
      // another process won the race: use its entry (verified on the next turn of the loop)
    } finally {
      held?.release();
    }
  }
  throw new Error(`cache entry ${dir} could not be published (repeated concurrent rebuilds); remove it and retry`);
}

/**
 * The entry `<kind>/<key>`, built by `build(tmpDir)` when it is missing, incomplete or corrupt.
 * `build` writes the entry's files into `tmpDir` (a fresh empty folder; its path changes when it
 * is published, so store only relative paths in the value) and returns a small
 * JSON-serializable value stored with the entry.  Never throws half an entry into the cache.
 */
export async function cached<T>(kind: string, key: string, build: (tmpDir: string) => Promise<T>, opts: CacheOptions = {}): Promise<CacheHit<T>> {
  const g = lookup<T>(kind, key, opts, false);
  let r = g.next();
  while (!r.done) {
    const ask = r.value;
    if ("sleep" in ask) {
      await new Promise((res) => setTimeout(res, ask.sleep));
      r = g.next();
      continue;
    }
    let value: T;
    try {
      value = await build(ask.build);
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(value);
  }
  return r.value;
}

/** Synchronous twin of `cached` (for callers that cannot be async; waits by sleeping). */
export function cachedSync<T>(kind: string, key: string, build: (tmpDir: string) => T, opts: CacheOptions = {}): CacheHit<T> {
  const g = lookup<T>(kind, key, opts, true);
  let r = g.next();
  while (!r.done) {
    const ask = r.value;
    if ("sleep" in ask) {
      sleepSync(ask.sleep);
      r = g.next();
      continue;
    }
    let value: T;
    try {
      value = build(ask.build);
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(value);
  }
  return r.value;
}

/** Size of every kind under the root (for `st3d cache`). */
export function cacheUsage(root = cacheRoot()): { kind: string; entries: number; bytes: number }[] {
  if (!fs.existsSync(root)) return [];
  const size = (p: string): number => {
    const st = fs.lstatSync(p);
    if (!st.isDirectory()) return st.size;
    return fs.readdirSync(p).reduce((a, n) => a + size(path.join(p, n)), 0);
  };
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const k = path.join(root, e.name);
      const entries = fs.readdirSync(k).filter((n) => !n.startsWith("."));
      return { kind: e.name, entries: entries.length, bytes: size(k) };
    })
    .sort((a, b) => (a.kind < b.kind ? -1 : 1));
}

/** Remove one kind (or every kind) of the cache; safe while other processes run (they rebuild). */
export function cacheClean(kind?: string, root = cacheRoot()): string[] {
  if (!fs.existsSync(root)) return [];
  const kinds = kind ? [kind] : fs.readdirSync(root).filter((n) => fs.statSync(path.join(root, n)).isDirectory());
  const removed: string[] = [];
  for (const k of kinds) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(k)) throw new Error(`no cache kind '${k}'`);
    const d = path.join(root, k);
    if (!fs.existsSync(d)) continue;
    const trash = path.join(root, `.trash-${k}-${HOST}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
    fs.renameSync(d, trash);
    fs.rmSync(trash, { recursive: true, force: true });
    removed.push(d);
  }
  return removed;
}
