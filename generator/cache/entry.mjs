// The read side of the st3d cache (generator/cache/cache.ts), in plain JavaScript so that the
// command-line launcher (bin/st3d.js) can use a cache entry before any TypeScript is loaded.
// cache.ts builds, seals and publishes entries and uses these same functions to read them.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const ENTRY_MARKER = ".st3d-entry.json";

/** The cache root (absolute): $ST3D_CACHE, else $XDG_CACHE_HOME/st3d, else ~/.cache/st3d. */
export function cacheRoot() {
  const env = process.env.ST3D_CACHE;
  if (env) return path.resolve(env);
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg ? path.resolve(xdg) : path.join(os.homedir(), ".cache"), "st3d");
}

/** sha256 hex of strings/buffers, in order (a cache key). */
export function cacheKey(...parts) {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" ? `${p.length}:` : `${p.length}b:`).update(p);
  return h.digest("hex").slice(0, 24);
}

export const fileHash = (f) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

/**
 * The value of a complete, intact entry folder: { ok: true, value }, or { ok: false, exists }
 * (missing, incomplete or corrupt: no marker, another key, or a file that no longer matches).
 */
export function readEntry(dir, key) {
  if (!fs.existsSync(dir)) return { ok: false, exists: false };
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, ENTRY_MARKER), "utf8"));
    if (m.key !== key || !m.files || typeof m.files !== "object") return { ok: false, exists: true };
    for (const [rel, h] of Object.entries(m.files)) if (fileHash(path.join(dir, rel)) !== h) return { ok: false, exists: true };
    return { ok: true, value: m.value };
  } catch {
    return { ok: false, exists: true };
  }
}

/** The folder of entry kind/key under the root (no check). */
export const entryDir = (kind, key, root = cacheRoot()) => path.join(root, kind, key);
