// The read side of the st3d cache (generator/cache/cache.ts), in plain JavaScript so that the
// command-line launcher (bin/st3d.js) can use a cache entry before any TypeScript is loaded.
// cache.ts builds, seals, locks and publishes entries and uses these same functions to read them.
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

/** Every file of an entry folder (relative paths, sorted), the marker excluded. */
export function listFiles(dir, rel = "") {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, p));
    else if (p !== ENTRY_MARKER) out.push(p);
  }
  return out.sort();
}

export const fileHash = (f) => crypto.createHash("sha256").update(fs.readFileSync(f)).digest("hex");

/**
 * The value of a complete, intact entry: { ok: true, value, id }, or why not: { ok: false,
 * exists, why, id? } (missing; no readable marker; a marker of another key; a file that no
 * longer matches its sha256, is missing, or is not part of the sealed entry).
 */
export function readEntry(dir, key) {
  if (!fs.existsSync(dir)) return { ok: false, exists: false, why: "missing" };
  let m;
  try {
    m = JSON.parse(fs.readFileSync(path.join(dir, ENTRY_MARKER), "utf8"));
  } catch {
    return { ok: false, exists: true, why: `no readable ${ENTRY_MARKER} (an interrupted or foreign build)` };
  }
  if (!m || m.key !== key || !m.files || typeof m.files !== "object") return { ok: false, exists: true, why: `${ENTRY_MARKER} does not describe this entry`, id: m?.id };
  try {
    for (const [rel, h] of Object.entries(m.files)) if (fileHash(path.join(dir, rel)) !== h) return { ok: false, exists: true, why: `${rel} does not match its recorded sha256 (truncated or changed)`, id: m.id };
    const extra = listFiles(dir).filter((f) => !(f in m.files));
    if (extra.length) return { ok: false, exists: true, why: `${extra[0]} is not part of the sealed entry`, id: m.id };
  } catch (e) {
    return { ok: false, exists: true, why: `${e?.code === "ENOENT" ? "a file of the entry is missing" : e?.message}`, id: m.id };
  }
  return { ok: true, value: m.value, id: m.id };
}

/** The folder of entry kind/key under the root (no check). */
export const entryDir = (kind, key, root = cacheRoot()) => path.join(root, kind, key);
