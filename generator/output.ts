/**
 * Writing generated files safely:
 *  - every path is relative and stays inside the output folder;
 *  - the folder is written whole into a temporary sibling, then renamed into place
 *    (a crash never leaves half a design);
 *  - st3d only replaces a folder it made itself: `st3d-manifest.json` lists every file
 *    with its sha256, and a folder holding anything else (a foreign file, or one of ours
 *    edited by hand) is refused unless `force` is set;
 *  - never, even with `force`: the filesystem root, the home folder, the current folder or
 *    a folder above it.
 * The temporary folder is a hidden sibling `.<name>.tmp-XXXXXX` (removed on failure; the
 * previous folder, moved aside to `<tmp>.old` for the final rename, is put back on failure).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { GeneratedFile } from "./core/files.ts";

export const MANIFEST = "st3d-manifest.json";

export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputError";
  }
}

export interface ManifestMeta {
  generator: string;
  design: string;
  configHash: string;
  /** top modules that lint and synthesis start from */
  tops: string[];
}

export interface Manifest extends ManifestMeta {
  files: { path: string; kind: string; sha256: string }[];
}

export const sha256 = (s: string | Buffer) => crypto.createHash("sha256").update(s).digest("hex");

/** Refuse any generated path that could land outside the output folder (or on the manifest). */
export function checkRelative(p: string): void {
  const refuse = (why: string) => {
    throw new OutputError(`refusing to write ${JSON.stringify(String(p))}: ${why}`);
  };
  if (typeof p !== "string" || p === "") refuse("generated paths must be non-empty");
  if (p.includes("\0")) refuse("a path must not contain a NUL character");
  const slashed = p.replace(/\\/g, "/");
  if (path.isAbsolute(p) || path.win32.isAbsolute(p) || slashed.startsWith("/") || /^[A-Za-z]:/.test(p))
    refuse("generated paths must be relative and stay inside the output folder");
  if (slashed.split("/").some((seg) => seg === ".."))
    refuse("generated paths must stay inside the output folder (no '..')");
  const norm = path.posix.normalize(slashed);
  if (norm === "." || norm === "" || norm.endsWith("/") || norm.startsWith("../")) refuse("generated paths must name a file inside the output folder");
  if (norm === MANIFEST) refuse(`${MANIFEST} is written by st3d itself`);
}

/**
 * Folders that must never be replaced, even with --force: the filesystem root, the home
 * folder, and the current folder or any folder above it (replacing it would delete the
 * folder the user is working in).
 */
export function checkReplaceable(dir: string): void {
  const abs = path.resolve(dir);
  const cwd = path.resolve(process.cwd());
  const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
  if (abs === path.parse(abs).root) throw new OutputError(`refusing to write into ${dir}: it is the filesystem root; choose a new folder`);
  if (abs === path.resolve(os.homedir())) throw new OutputError(`refusing to write into ${dir}: it is the home folder; choose a new folder`);
  if (inside(cwd, abs)) throw new OutputError(`refusing to write into ${dir}: it is the current folder or one of its parents; choose a new folder`);
}

/** Every entry under dir (files, symlinks, other non-directories; and directories with nothing in them), relative, sorted. */
function listEntries(dir: string, base = ""): { path: string; type: "file" | "dir" | "other" }[] {
  const out: { path: string; type: "file" | "dir" | "other" }[] = [];
  for (const e of fs.readdirSync(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const sub = listEntries(dir, rel);
      if (sub.length === 0) out.push({ path: `${rel}/`, type: "dir" });
      out.push(...sub);
    } else out.push({ path: rel, type: e.isFile() ? "file" : "other" });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * Files in dir that st3d did not write (or that were edited since): the reasons a plain
 * regenerate must stop.  Anything that is not a regular file listed in the manifest with its
 * hash counts: foreign files, edited files, symlinks, empty folders, an unreadable manifest.
 */
export function foreignFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) return [dir];
  const all = listEntries(dir);
  if (all.length === 0) return [];
  const mf = path.join(dir, MANIFEST);
  if (!fs.existsSync(mf)) return all.map((e) => e.path);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(mf, "utf8"));
  } catch {
    return [MANIFEST];
  }
  if (!manifest || !Array.isArray(manifest.files) || !manifest.files.every((f) => f && typeof f.path === "string" && typeof f.sha256 === "string")) return [MANIFEST];
  const known = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  return all
    .filter((e) => e.path !== MANIFEST)
    .filter((e) => e.type !== "file" || !known.has(e.path) || known.get(e.path) !== sha256(fs.readFileSync(path.join(dir, e.path))))
    .map((e) => e.path);
}

export function listFiles(dir: string, base = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

export function makeManifest(files: GeneratedFile[], meta: ManifestMeta): Manifest {
  return { ...meta, files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => ({ path: f.path, kind: f.kind, sha256: sha256(f.content) })) };
}

/**
 * Write `files` as the whole content of `dir` (atomically, see above).  `force` replaces a
 * folder holding foreign or edited files (they are deleted); it never replaces the filesystem
 * root, the home folder, or the current folder or one of its parents.
 */
export function writeOutputDir(dir: string, files: GeneratedFile[], meta: ManifestMeta, opts: { force?: boolean } = {}): string[] {
  const seen = new Set<string>();
  for (const f of files) {
    checkRelative(f.path);
    const norm = path.posix.normalize(f.path.replace(/\\/g, "/"));
    if (seen.has(norm)) throw new OutputError(`internal error: two generated files named '${f.path}'`);
    seen.add(norm);
  }
  for (const p of seen)
    for (let d = path.posix.dirname(p); d !== "."; d = path.posix.dirname(d))
      if (seen.has(d)) throw new OutputError(`internal error: '${d}' is generated both as a file and as a folder`);
  checkReplaceable(dir);
  const abs = path.resolve(dir);
  if (!opts.force) {
    let foreign: string[];
    try {
      foreign = foreignFiles(abs);
    } catch (e) {
      throw new OutputError(`cannot check ${dir} before overwriting it: ${(e as Error).message}`);
    }
    if (foreign.length)
      throw new OutputError(
        `refusing to overwrite ${dir}: it holds files st3d did not generate or that were edited (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", ..." : ""}); choose another folder or pass --force (which deletes them)`,
      );
  }
  const parent = path.dirname(abs);
  let tmp: string | null = null;
  let old: string | null = null;
  try {
    fs.mkdirSync(parent, { recursive: true });
    tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(abs)}.tmp-`));
    for (const f of files) {
      const p = path.join(tmp, f.path);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.content);
    }
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(makeManifest(files, meta), null, 2) + "\n");
    if (fs.existsSync(abs) || isSymlink(abs)) {
      old = `${tmp}.old`;
      fs.renameSync(abs, old);
    }
    fs.renameSync(tmp, abs);
    tmp = null;
  } catch (e) {
    // put the previous folder back if it was moved aside, and leave no temporary behind
    if (old && !fs.existsSync(abs) && !isSymlink(abs)) {
      try {
        fs.renameSync(old, abs);
        old = null;
      } catch {
        /* reported below */
      }
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    const why = e instanceof OutputError ? e.message : (e as Error).message;
    throw new OutputError(`could not write ${dir}: ${why}${old ? ` (the previous content is in ${old})` : "; nothing was changed"}`);
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
  return files.map((f) => f.path);
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
