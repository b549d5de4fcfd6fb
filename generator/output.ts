/**
 * Writing generated files safely:
 *  - every path is relative and stays inside the output folder;
 *  - the folder is written whole into a temporary sibling, then renamed into place
 *    (a crash never leaves half a design);
 *  - st3d only replaces a folder it made itself: `st3d-manifest.json` lists every file
 *    with its sha256, and a folder holding anything else (a foreign file, or one of ours
 *    edited by hand) is refused unless `force` is set.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { GeneratedFile } from "./render/render.ts";

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

export function checkRelative(p: string): void {
  const norm = path.posix.normalize(p.replace(/\\/g, "/"));
  if (path.isAbsolute(p) || norm.startsWith("../") || norm === ".." || norm.startsWith("/") || norm === "." || norm === "")
    throw new OutputError(`refusing to write '${p}': generated paths must stay inside the output folder`);
}

/** Files in dir that st3d did not write (or that were edited since): the reasons a plain regenerate must stop. */
export function foreignFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  if (!fs.statSync(dir).isDirectory()) return [dir];
  const all = listFiles(dir);
  if (all.length === 0) return [];
  const mf = path.join(dir, MANIFEST);
  if (!fs.existsSync(mf)) return all;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(mf, "utf8"));
  } catch {
    return [MANIFEST];
  }
  const known = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  return all.filter((f) => f !== MANIFEST && (!known.has(f) || known.get(f) !== sha256(fs.readFileSync(path.join(dir, f)))));
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

/** Write `files` as the whole content of `dir` (atomically, see above). */
export function writeOutputDir(dir: string, files: GeneratedFile[], meta: ManifestMeta, opts: { force?: boolean } = {}): string[] {
  const seen = new Set<string>();
  for (const f of files) {
    checkRelative(f.path);
    if (seen.has(f.path)) throw new OutputError(`internal error: two generated files named '${f.path}'`);
    seen.add(f.path);
  }
  const abs = path.resolve(dir);
  if (!opts.force) {
    const foreign = foreignFiles(abs);
    if (foreign.length)
      throw new OutputError(
        `refusing to overwrite ${dir}: it holds files st3d did not generate or that were edited (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", ..." : ""}); choose another folder or pass --force`,
      );
  }
  const parent = path.dirname(abs);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(abs)}.tmp-`));
  try {
    for (const f of files) {
      const p = path.join(tmp, f.path);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.content);
    }
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(makeManifest(files, meta), null, 2) + "\n");
    let old: string | null = null;
    if (fs.existsSync(abs)) {
      old = `${tmp}.old`;
      fs.renameSync(abs, old);
    }
    fs.renameSync(tmp, abs);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return files.map((f) => f.path);
}
