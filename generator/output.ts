/**
 * Output folders: the one rule for every st3d command that writes (`generate`, `run`,
 * `random-model`, and the coming `report` / `sweep`).  docs/OUTPUTS.md explains it to users.
 *
 * st3d writes only into a folder that is
 *   - new (it does not exist yet), or
 *   - empty, or
 *   - st3d's own earlier output: `st3d-manifest.json` lists every file st3d wrote there with
 *     its sha256, and the folder holds nothing else.
 * `force` additionally replaces st3d's own files that were edited since (listed in the
 * manifest, hash changed).  Nothing else, ever: a folder holding a file st3d did not write
 * (a foreign file, a symlink, an empty folder of the user, an unreadable manifest) is refused
 * with or without `force`, as are — whatever they hold — the filesystem root, the home folder,
 * the current folder, the st3d installation, a git repository, and every folder that contains
 * one of those.  Every refusal names the folder and what is in the way.
 *
 * Writing is atomic: the new content is written whole into a hidden sibling
 * `.<name>.tmp-XXXXXX`, then renamed into place (the previous folder, moved aside to
 * `<tmp>.old` for that rename, is deleted after it, or put back if it fails); a crash or an
 * error never leaves half a folder.  Folders and files are created with the process umask
 * (mode 0777 / 0666 minus the umask; executables 0777 minus the umask).
 *
 * API: `writeOutputDir` (all files in memory); `beginOutputDir` → `OutputStage` (write or copy
 * files into the stage as work proceeds, e.g. a simulator dumping waves into it, then `commit`
 * or `abort`); `checkOutputDir` (the same checks up front, before long work).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "./core/paths.ts";

export const MANIFEST = "st3d-manifest.json";

/** The st3d installation (the folder holding generator/, package.json). */
export const INSTALL_ROOT = REPO_ROOT;

export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputError";
  }
}

/** A file to write into an output folder (GeneratedFile is one). */
export interface OutputFile {
  /** path relative to the output folder, '/'-separated */
  path: string;
  /** role, recorded in the manifest: rtl, sim, stub, tb, data, report, tensor, waves, debug, ... */
  kind: string;
  content: string | Uint8Array;
  /** created executable (mode 0777 minus the umask) */
  executable?: boolean;
}

export interface ManifestMeta {
  generator: string;
  /** the command that wrote the folder (generate, run, random-model, ...) */
  command?: string;
  design: string;
  configHash: string;
  /** top modules that lint and synthesis start from (generate) */
  tops?: string[];
}

export interface Manifest extends ManifestMeta {
  files: { path: string; kind: string; sha256: string }[];
}

export const sha256 = (s: string | Uint8Array) => crypto.createHash("sha256").update(s).digest("hex");

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

const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** The real path of p (symlinks of its existing part resolved), p need not exist. */
function realish(p: string): string {
  const abs = path.resolve(p);
  let head = abs;
  const tail: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...tail);
    } catch {
      const up = path.dirname(head);
      if (up === head) return abs;
      tail.unshift(path.basename(head));
      head = up;
    }
  }
}

/**
 * Why `dir` must never be written, whatever it holds (null when it may be): the filesystem
 * root, the home folder, the current folder, the st3d installation, or a folder containing one
 * of them; a git repository.
 */
export function protectedReason(dir: string): string | null {
  const abs = realish(dir);
  if (abs === path.parse(abs).root) return "it is the filesystem root";
  const guarded: [string, string][] = [
    [realish(os.homedir()), "the home folder"],
    [realish(process.cwd()), "the current folder"],
    [realish(INSTALL_ROOT), "the st3d installation"],
  ];
  for (const [p, what] of guarded) {
    if (abs === p) return `it is ${what}`;
    if (inside(p, abs)) return `it contains ${what} (${p})`;
  }
  if (fs.existsSync(path.join(abs, ".git"))) return "it is a git repository (it holds .git)";
  return null;
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

/** What an existing or future output folder holds. */
export type OutputDirState =
  | { state: "new" }
  | { state: "empty" }
  /** st3d's own earlier output, unchanged */
  | { state: "own"; manifest: Manifest }
  /** st3d's own output, but some of its files were edited (replaced only with force) */
  | { state: "edited"; manifest: Manifest; edited: string[] }
  /** holds something st3d did not write (never replaced) */
  | { state: "foreign"; foreign: string[]; edited: string[]; why?: string };

function readManifestFile(file: string): Manifest | null {
  try {
    const m = JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
    if (!m || typeof m !== "object" || !Array.isArray(m.files) || !m.files.every((f) => f && typeof f.path === "string" && typeof f.sha256 === "string")) return null;
    return m;
  } catch {
    return null;
  }
}

/** Inspect `dir` (which may not exist). */
export function inspectOutputDir(dir: string): OutputDirState {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { state: "new" };
    if (code === "ENOTDIR") {
      let up = path.dirname(path.resolve(dir));
      while (up !== path.dirname(up) && !(fs.existsSync(up) && !fs.statSync(up).isDirectory())) up = path.dirname(up);
      throw new OutputError(`could not write ${dir}: ${up} is a file, not a folder; choose another output folder`);
    }
    throw new OutputError(`cannot look into ${dir}: ${(e as Error).message}`);
  }
  if (st.isSymbolicLink()) return { state: "foreign", foreign: [], edited: [], why: `it is a symbolic link (to ${fs.readlinkSync(dir)}); give the folder it points to` };
  if (!st.isDirectory()) return { state: "foreign", foreign: [], edited: [], why: "it is a file, not a folder" };
  let all: ReturnType<typeof listEntries>;
  try {
    all = listEntries(dir);
  } catch (e) {
    throw new OutputError(`cannot look into ${dir}: ${(e as Error).message}`);
  }
  if (all.length === 0) return { state: "empty" };
  const mfPath = path.join(dir, MANIFEST);
  if (!all.some((e) => e.path === MANIFEST && e.type === "file")) return { state: "foreign", foreign: all.map((e) => e.path), edited: [] };
  const manifest = readManifestFile(mfPath);
  if (!manifest)
    return { state: "foreign", foreign: [MANIFEST], edited: [], why: `its ${MANIFEST} is not a readable st3d manifest, so st3d cannot tell its own files from others` };
  const known = new Map(manifest.files.map((f) => [path.posix.normalize(f.path), f.sha256]));
  const knownDirs = new Set<string>();
  for (const p of known.keys()) for (let d = path.posix.dirname(p); d !== "."; d = path.posix.dirname(d)) knownDirs.add(`${d}/`);
  const foreign: string[] = [];
  const edited: string[] = [];
  for (const e of all) {
    if (e.path === MANIFEST) continue;
    if (e.type === "dir") {
      if (!knownDirs.has(e.path)) foreign.push(e.path);
    } else if (e.type !== "file" || !known.has(e.path)) foreign.push(e.path);
    else if (known.get(e.path) !== sha256(fs.readFileSync(path.join(dir, e.path)))) edited.push(e.path);
  }
  if (foreign.length) return { state: "foreign", foreign, edited };
  if (edited.length) return { state: "edited", manifest, edited };
  return { state: "own", manifest };
}

/**
 * Files in dir that st3d did not write or that were edited since (what stops a plain
 * overwrite); [dir] itself when it is a file or a symlink.
 */
export function foreignFiles(dir: string): string[] {
  const s = inspectOutputDir(dir);
  if (s.state === "foreign") return s.why && !s.foreign.length ? [dir] : [...s.foreign, ...s.edited].sort();
  if (s.state === "edited") return s.edited;
  return [];
}

const listSome = (xs: string[], n = 5) => `${xs.slice(0, n).join(", ")}${xs.length > n ? `, and ${xs.length - n} more` : ""}`;

/**
 * Throw an OutputError unless `dir` may be written (see the rule at the top).  Returns the
 * state found, so a caller can say "replacing the earlier output in ...".
 */
export function checkOutputDir(dir: string, opts: { force?: boolean } = {}): OutputDirState {
  const prot = protectedReason(dir);
  if (prot) throw new OutputError(`refusing to write into ${dir}: ${prot}; choose a new folder for st3d's output`);
  const s = inspectOutputDir(dir);
  if (s.state === "foreign") {
    if (s.why) throw new OutputError(`refusing to write into ${dir}: ${s.why}; choose a new folder (st3d writes only into a new folder, an empty one, or one holding its own earlier output)`);
    throw new OutputError(
      `refusing to write into ${dir}: it holds files st3d did not write (${listSome(s.foreign)}); st3d writes only into a new folder, an empty one, or one holding its own earlier output (per ${MANIFEST}) — choose another folder or move those files away (--force never deletes them)`,
    );
  }
  if (s.state === "edited" && !opts.force)
    throw new OutputError(
      `refusing to overwrite ${dir}: st3d wrote it, but these files were edited since (${listSome(s.edited)}); pass --force to replace st3d's own files, or choose another folder`,
    );
  return s;
}

/** Validate a set of output paths: relative, inside the folder, no duplicates, no file that is also a folder. */
function checkPaths(paths: Iterable<string>, taken: Set<string>): void {
  for (const p of paths) {
    checkRelative(p);
    const norm = path.posix.normalize(p.replace(/\\/g, "/"));
    if (taken.has(norm)) throw new OutputError(`internal error: two generated files named '${p}'`);
    taken.add(norm);
  }
  for (const p of taken)
    for (let d = path.posix.dirname(p); d !== "."; d = path.posix.dirname(d))
      if (taken.has(d)) throw new OutputError(`internal error: '${d}' is generated both as a file and as a folder`);
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

export function makeManifest(files: { path: string; kind: string; content: string | Uint8Array }[], meta: ManifestMeta): Manifest {
  return { ...meta, files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)).map((f) => ({ path: f.path, kind: f.kind, sha256: sha256(f.content) })) };
}

/** Clean-ups to run on SIGINT / SIGTERM / SIGHUP (open stages, private work folders), so Ctrl-C leaves no temporary. */
const cleanups = new Set<() => void>();
let signalsHooked = false;
function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.once(sig, () => {
      runInterruptCleanups();
      process.kill(process.pid, sig);
    });
}

/**
 * Run (and drop) every registered clean-up now: for a process with its own signal handler that
 * exits from it (a sweep point), so that open stages and private work folders go first.
 */
export function runInterruptCleanups(): void {
  for (const c of [...cleanups]) {
    cleanups.delete(c);
    try {
      c();
    } catch {
      /* best effort */
    }
  }
}

/** Run `fn` if the process is interrupted; returns the function that unregisters it. */
export function onInterrupt(fn: () => void): () => void {
  hookSignals();
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/**
 * An output folder being written: files go into a hidden temporary sibling of the target;
 * `commit()` checks the target again and renames the stage into place.
 */
export class OutputStage {
  /** absolute path of the temporary folder (write here, e.g. a simulator's wave file) */
  readonly path: string;
  readonly target: string;
  private readonly kinds = new Map<string, string>();
  private unhook: () => void = () => {};
  /** every folder implied by the claimed paths */
  private readonly dirs = new Set<string>();
  private done = false;

  constructor(
    readonly dir: string,
    private readonly meta: ManifestMeta,
    private readonly opts: { force?: boolean } = {},
  ) {
    checkOutputDir(dir, opts);
    this.target = path.resolve(dir);
    const parent = path.dirname(this.target);
    try {
      fs.mkdirSync(parent, { recursive: true });
      let tmp = "";
      for (let i = 0; ; i++) {
        tmp = path.join(parent, `.${path.basename(this.target)}.tmp-${crypto.randomBytes(4).toString("hex")}`);
        try {
          fs.mkdirSync(tmp, { mode: 0o777 }); // the umask applies (mkdtemp would force 0700)
          break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST" || i > 5) throw e;
        }
      }
      this.path = tmp;
    } catch (e) {
      throw new OutputError(`could not write ${dir}: ${(e as Error).message}; nothing was changed`);
    }
    this.unhook = onInterrupt(() => this.abort());
  }

  /** Absolute path of `rel` inside the stage (its folder created); `kind` is recorded in the manifest. */
  file(rel: string, kind: string): string {
    this.claim(rel, kind);
    const p = path.join(this.path, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    return p;
  }

  write(f: OutputFile): void {
    const p = this.file(f.path, f.kind);
    fs.writeFileSync(p, f.content, { mode: f.executable ? 0o777 : 0o666 });
  }

  /** Copy an existing file into the stage. */
  copy(rel: string, kind: string, src: string, executable = false): void {
    const p = this.file(rel, kind);
    fs.writeFileSync(p, fs.readFileSync(src), { mode: executable ? 0o777 : 0o666 });
  }

  private claim(rel: string, kind: string): void {
    if (this.done) throw new OutputError(`internal error: ${this.dir} was already committed or aborted`);
    checkRelative(rel);
    const norm = path.posix.normalize(rel.replace(/\\/g, "/"));
    if (this.kinds.has(norm)) throw new OutputError(`internal error: two generated files named '${rel}'`);
    if (this.dirs.has(norm)) throw new OutputError(`internal error: '${norm}' is generated both as a file and as a folder`);
    const ancestors: string[] = [];
    for (let d = path.posix.dirname(norm); d !== "."; d = path.posix.dirname(d)) {
      if (this.kinds.has(d)) throw new OutputError(`internal error: '${d}' is generated both as a file and as a folder`);
      ancestors.push(d);
    }
    for (const d of ancestors) this.dirs.add(d);
    this.kinds.set(norm, kind);
  }

  /** Files claimed so far whose content is in the stage. */
  private collect(): { path: string; kind: string; content: Buffer }[] {
    const out: { path: string; kind: string; content: Buffer }[] = [];
    for (const [rel, kind] of this.kinds) {
      const p = path.join(this.path, rel);
      if (!fs.existsSync(p)) throw new OutputError(`internal error: ${rel} was announced but never written`);
      out.push({ path: rel, kind, content: fs.readFileSync(p) });
    }
    return out;
  }

  /** Write the manifest and put the folder in place (checking the target again first). Returns the written paths. */
  commit(): string[] {
    if (this.done) throw new OutputError(`internal error: ${this.dir} was already committed or aborted`);
    let old: string | null = null;
    let moved = false;
    const files = (() => {
      try {
        const fs_ = this.collect();
        fs.writeFileSync(path.join(this.path, MANIFEST), JSON.stringify(makeManifest(fs_, this.meta), null, 2) + "\n");
        return fs_;
      } catch (e) {
        this.abort();
        throw new OutputError(`could not write ${this.dir}: ${(e as Error).message}; nothing was changed`);
      }
    })();
    try {
      // the folder may have changed while the work ran (another process, the user)
      checkOutputDir(this.dir, this.opts);
    } catch (e) {
      this.abort();
      throw e;
    }
    try {
      if (fs.existsSync(this.target) || isSymlink(this.target)) {
        old = `${this.path}.old`;
        fs.renameSync(this.target, old);
        moved = true;
      }
      fs.renameSync(this.path, this.target);
    } catch (e) {
      // put the previous folder back if it was moved aside
      if (moved && old && !fs.existsSync(this.target) && !isSymlink(this.target)) {
        try {
          fs.renameSync(old, this.target);
          moved = false;
        } catch {
          /* reported below */
        }
      }
      this.abort();
      throw new OutputError(`could not write ${this.dir}: ${(e as Error).message}${moved && old ? ` (the previous content is in ${old})` : "; nothing was changed"}`);
    }
    this.done = true;
    this.unhook();
    if (moved && old) fs.rmSync(old, { recursive: true, force: true });
    return files.map((f) => f.path);
  }

  /** Remove the stage; the target is left as it was. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.unhook();
    fs.rmSync(this.path, { recursive: true, force: true });
  }
}

/** Open a stage for `dir` (checked now and again at commit). */
export function beginOutputDir(dir: string, meta: ManifestMeta, opts: { force?: boolean } = {}): OutputStage {
  return new OutputStage(dir, meta, opts);
}

/**
 * Write `files` as the whole content of `dir`, atomically, under the rule above.  Returns the
 * written paths.
 */
export function writeOutputDir(dir: string, files: OutputFile[], meta: ManifestMeta, opts: { force?: boolean } = {}): string[] {
  checkPaths(
    files.map((f) => f.path),
    new Set(),
  );
  const stage = beginOutputDir(dir, meta, opts);
  try {
    for (const f of files) stage.write(f);
  } catch (e) {
    stage.abort();
    throw new OutputError(`could not write ${dir}: ${(e as Error).message}; nothing was changed`);
  }
  return stage.commit();
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
