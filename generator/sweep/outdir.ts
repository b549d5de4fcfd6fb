/**
 * The sweep output folder, and how it obeys st3d's output rule (st3d writes only into a new
 * folder, an empty one, or its own earlier output) although many processes, on several nodes,
 * add results to it while a sweep runs:
 *
 *   DIR/st3d-manifest.json    command "sweep"; every file of the folder with its sha256, as of
 *                             the last collection (so a finished sweep folder is plain st3d
 *                             output for every st3d command)
 *   DIR/sweep.json            the sweep as run: definition, digest, point table
 *   DIR/points/<key>.json     one point's result, written atomically (the commit of the point);
 *                             rewritten when the point runs again, so checked for its form only
 *   DIR/points/<key>/         the point's files (config.json, log.txt, run/, physical.json,
 *                             report/), its own st3d manifest, renamed into place whole
 *   DIR/results.jsonl results.csv pareto.json sweep.html timing.jsonl   (collected)
 *   DIR/slurm/sweep-<n>.sbatch, DIR/slurm/logs/    (Slurm runs)
 *
 * Temporary names (all hidden, `.…tmp-<host>-<pid>-<random>`) live next to their target so
 * that the final rename is atomic on every file system; an interrupted run's temporaries are
 * removed by the next run on the same host (their process is gone) or by the coordinator
 * that killed them.  A folder holding anything else is refused, as every st3d command does.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cacheRoot } from "../cache/cache.ts";
import { ST3D_VERSION } from "../config/resolve.ts";
import { foreignFiles, MANIFEST, OutputError, protectedReason, sha256 } from "../output.ts";

export const SWEEP_JSON = "sweep.json";
export const POINTS = "points";
export const SLURM = "slurm";
export const COLLECTED = ["results.jsonl", "results.csv", "pareto.json", "sweep.html", "timing.jsonl"] as const;

export const HOST = os.hostname().replace(/[^A-Za-z0-9-]/g, "-").slice(0, 40) || "host";

/** A temporary name next to `target`: `.<base>.tmp-<host>-<pid>-<rand>`. */
export function tempName(target: string, pid = process.pid): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${HOST}-${pid}-${crypto.randomBytes(4).toString("hex")}`);
}

const TEMP_RE = /^\..+\.tmp-([A-Za-z0-9-]+)-(\d+)-[0-9a-f]{8}(\.old)?$/;
const KEY_RE = /^(?:[0-9a-f]{16}|x[0-9a-f]{15})-(?:d[0-9.e-]+-s\d+|m[0-9a-f]{12})$/;

export function isPointKey(k: string): boolean {
  return KEY_RE.test(k);
}

/** Write a file atomically (temp file in the same folder, then rename). */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove temporaries in the sweep folder (points/, slurm/, the top) left by processes that
 * are gone: those of `pids` (children this process killed), or, when `pids` is undefined,
 * those of any dead process of this host.  Returns the removed names.
 */
export function removeStaleTemps(dir: string, pids?: Set<number>): string[] {
  const removed: string[] = [];
  for (const sub of ["", POINTS, SLURM]) {
    const d = path.join(dir, sub);
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = TEMP_RE.exec(n);
      if (!m || m[1] !== HOST) continue;
      const pid = Number(m[2]);
      if (pids ? !pids.has(pid) : pid === process.pid || alive(pid)) continue;
      fs.rmSync(path.join(d, n), { recursive: true, force: true });
      removed.push(path.posix.join(sub, n));
    }
  }
  return removed;
}

/**
 * Temporaries of a dead process in st3d's cache (generator/cache:
 * `<root>/<kind>/.tmp-<key>-<host>-<pid>-<rand>`, `.trash-…`): a killed point cannot remove them itself.
 */
export function removeCacheTempsOf(pids: Set<number>): void {
  if (pids.size === 0) return;
  const roots: string[] = [];
  try {
    for (const kind of fs.readdirSync(cacheRoot())) roots.push(path.join(cacheRoot(), kind));
  } catch {
    /* no cache yet */
  }
  const re = /^\.(?:tmp|trash)-.+-(\d+)-[0-9a-f]{8}(?:\.old)?$/;
  for (const d of roots) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = re.exec(n);
      if (m && pids.has(Number(m[1]))) fs.rmSync(path.join(d, n), { recursive: true, force: true });
    }
  }
}

export interface SweepManifest {
  generator: string;
  command: "sweep";
  design: string;
  configHash: string;
  tops: string[];
  files: { path: string; kind: string; sha256: string }[];
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch {
    return null;
  }
}

/** Every regular file under dir (relative, '/'-separated), and entries that are not regular files or folders. */
function walk(dir: string, rel = ""): { files: string[]; other: string[] } {
  const files: string[] = [];
  const other: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      const sub = walk(dir, p);
      files.push(...sub.files);
      other.push(...sub.other);
    } else if (e.isFile()) files.push(p);
    else other.push(p);
  }
  return { files: files.sort(), other };
}

/** What kind of file of a sweep folder `rel` is, or null when st3d does not write such a file there. */
export function sweepFileKind(rel: string): string | null {
  const parts = rel.split("/");
  if (parts.length === 1) {
    if (rel === MANIFEST) return "manifest";
    if (rel === SWEEP_JSON) return "report";
    if ((COLLECTED as readonly string[]).includes(rel)) return "report";
    return TEMP_RE.test(rel) ? "temp" : null;
  }
  if (parts[0] === POINTS) {
    if (TEMP_RE.test(parts[1])) return "temp";
    if (parts.length === 2) return parts[1].endsWith(".json") && isPointKey(parts[1].slice(0, -5)) ? "result" : null;
    return isPointKey(parts[1]) ? "point" : null;
  }
  if (parts[0] === SLURM) {
    if (parts.length === 2) return /^sweep-\d+\.sbatch$/.test(parts[1]) || parts[1] === "submissions.jsonl" ? "slurm" : TEMP_RE.test(parts[1]) ? "temp" : null;
    if (parts.length === 3 && parts[1] === "logs") return /^[A-Za-z0-9_.-]+\.log$/.test(parts[2]) ? "log" : null;
  }
  return null;
}

export type SweepDirState = { state: "new" | "empty" } | { state: "own"; manifest: SweepManifest; sweep: { digest?: string } | null };

/**
 * Check that `dir` may hold this sweep: new, empty, or an earlier st3d sweep folder whose
 * files are all st3d's (edited collected files are replaced only with `force`).
 */
export function checkSweepDir(dir: string, opts: { force?: boolean } = {}): SweepDirState {
  const prot = protectedReason(dir);
  if (prot) throw new OutputError(`refusing to write into ${dir}: ${prot}; choose a new folder for st3d's output`);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return { state: "new" };
  }
  if (st.isSymbolicLink()) throw new OutputError(`refusing to write into ${dir}: it is a symbolic link; give the folder it points to`);
  if (!st.isDirectory()) throw new OutputError(`refusing to write into ${dir}: it is a file, not a folder`);
  const { files, other } = walk(dir);
  if (files.length === 0 && other.length === 0 && fs.readdirSync(dir).length === 0) return { state: "empty" };
  const manifest = readJson<SweepManifest>(path.join(dir, MANIFEST));
  if (!manifest || manifest.command !== "sweep" || !Array.isArray(manifest.files)) {
    const why = manifest ? `its ${MANIFEST} was written by 'st3d ${manifest.command ?? "generate"}', not by 'st3d sweep'` : `it holds files st3d did not write (${files.slice(0, 5).join(", ")}${files.length > 5 ? ", ..." : ""})`;
    throw new OutputError(`refusing to write a sweep into ${dir}: ${why}; st3d writes only into a new folder, an empty one, or its own earlier output — choose another folder`);
  }
  const known = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  const foreign: string[] = [...other];
  const edited: string[] = [];
  const pointDirs = new Set<string>();
  for (const f of files) {
    const kind = sweepFileKind(f);
    if (kind === null) foreign.push(f);
    else if (kind === "temp") continue;
    else if (kind === "point") pointDirs.add(f.split("/").slice(0, 2).join("/"));
    // result files are rewritten by the point processes (a retried point): their form is
    // checked, not their hash; the collected files are st3d's as of the last collection
    else if (kind === "result") {
      if (!readJson<{ key?: string }>(path.join(dir, f))?.key) foreign.push(f);
    } else if (kind !== "manifest" && known.has(f) && known.get(f) !== sha256(fs.readFileSync(path.join(dir, f)))) edited.push(f);
  }
  for (const pd of pointDirs) {
    // a point's folder is st3d output on its own (its manifest); its files may be newer than the top manifest
    const bad = foreignFiles(path.join(dir, pd));
    for (const b of bad) (fs.existsSync(path.join(dir, pd, MANIFEST)) ? edited : foreign).push(`${pd}/${b}`);
  }
  if (foreign.length)
    throw new OutputError(
      `refusing to write into ${dir}: it is an st3d sweep folder, but it holds files st3d did not write (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", ..." : ""}); move them away or choose another folder`,
    );
  if (edited.length && !opts.force)
    throw new OutputError(`refusing to overwrite ${dir}: st3d wrote it, but these files were edited since (${edited.slice(0, 5).join(", ")}${edited.length > 5 ? ", ..." : ""}); pass --force to replace st3d's own files, or choose another folder`);
  return { state: "own", manifest, sweep: readJson(path.join(dir, SWEEP_JSON)) };
}

/** Rewrite the top manifest so that it lists every st3d file of the folder (called by the collecting process). */
export function writeSweepManifest(dir: string, meta: { design: string; digest: string }): void {
  const { files } = walk(dir);
  const list = files
    .filter((f) => f !== MANIFEST)
    .map((f) => ({ f, kind: sweepFileKind(f) }))
    .filter((x) => x.kind !== null && x.kind !== "temp")
    .map((x) => ({ path: x.f, kind: x.kind!, sha256: sha256(fs.readFileSync(path.join(dir, x.f))) }));
  const m: SweepManifest = { generator: `st3d ${ST3D_VERSION}`, command: "sweep", design: meta.design, configHash: meta.digest, tops: [], files: list };
  writeFileAtomic(path.join(dir, MANIFEST), JSON.stringify(m, null, 2) + "\n");
}

/**
 * Publish a staged point folder as points/<key>/ with its own manifest (the format of
 * generator/output.ts, so `st3d` treats it as its own output); an earlier folder of the same
 * point is replaced.
 */
export function commitPointDir(stage: string, target: string, meta: { design: string; configHash: string }): void {
  const { files } = walk(stage);
  const manifest = {
    generator: `st3d ${ST3D_VERSION}`,
    command: "sweep --point",
    design: meta.design,
    configHash: meta.configHash,
    tops: [],
    files: files.filter((f) => f !== MANIFEST).map((f) => ({ path: f, kind: f.endsWith(".html") || f.endsWith(".json") ? "report" : f.endsWith(".npy") ? "tensor" : "data", sha256: sha256(fs.readFileSync(path.join(stage, f))) })),
  };
  fs.writeFileSync(path.join(stage, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  let old: string | null = null;
  if (fs.existsSync(target)) {
    old = `${tempName(target)}.old`;
    fs.renameSync(target, old);
  }
  try {
    fs.renameSync(stage, target);
  } catch (e) {
    if (old && !fs.existsSync(target)) fs.renameSync(old, target);
    throw e;
  }
  if (old) fs.rmSync(old, { recursive: true, force: true });
}
