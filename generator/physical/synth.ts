/**
 * Synthesis onto a real cell library, hierarchical: every module that a top-level instance uses
 * is mapped on its own (its sub-modules flattened into it, SRAM macros kept as blackboxes),
 * cached by content hash in the shared cache (generator/cache), modules in parallel (a pool as
 * large as the machine has cores), with progress lines.  The tops (2D top, tier tops, 3D
 * assembly) are wiring only; they go through the same clean-up (no assign, ties, buffers).
 *
 * Per module (Yosys 0.23):
 *   read_liberty -lib LIB; read_verilog -defer <rtl + macro stubs>; hierarchy -check -top M
 *   synth -top M -flatten            (generic synthesis; refuses latches: select -assert-none)
 *   dfflibmap -liberty LIB           (flip-flops -> library flops, enables/resets into logic)
 *   abc -D <period ps> -script ABC_SCRIPT -liberty LIB   (mapping + gain buffering + sizing)
 *   opt_clean -purge; write_json
 * then in TypeScript (./netlist.ts): fanout repair (MAX_FANOUT), tie cells for constants,
 * buffers for port aliases, structural Verilog.  Areas: liberty `area` of every cell; SRAM
 * macros from the SRAM model at the library's node (generator/blocks/memory/sramModel.ts).
 */
import fs from "node:fs";
import path from "node:path";
import type { GeneratedFile } from "../core/files.ts";
import { cached, cacheKey, type CacheOptions } from "../cache/cache.ts";
import { progress, type Progress } from "../progress/progress.ts";
import { runYosysScript, yosysVersion } from "../toolchain/yosys.ts";
import { ToolFailedError } from "../toolchain/tools.ts";
import { macroShape } from "./macro.ts";
import { sramAtNode, type SramAtNode } from "../blocks/memory/sramModel.ts";
import { MAX_FANOUT, tieLiberty, type CellLibrary } from "./library.ts";
import { emitVerilog, flattenModule, histogram, normalizePorts, removeClockBuffers, repairFanout, tieConstants, type YDesign, type YModule } from "./netlist.ts";
import { runPool, defaultJobs } from "./pool.ts";
import { inWorker } from "./worker.ts";
import { loadLibrary, type LibraryOptions } from "./library.ts";

/** Version of the Yosys script (the "yosys-map" cache entries). */
export const SYNTH_SCRIPT_VERSION = "st3d-yosys-1";
/** Version of st3d's clean-up of the mapped netlist (the "synth" cache entries). */
export const POST_VERSION = "st3d-post-1";

/** ABC script: Yosys's default liberty flow (strash … &nf), then ABC's gain-based buffering and up/down sizing against the delay target. */
export function abcScript(periodPs: number): string {
  const D = Math.max(1, Math.round(periodPs));
  return ["strash", "&get -n", "&fraig -x", "&put", "scorr", "dc2", "dretime", "strash", "&get -n", "&dch -f", `&nf -D ${D}`, "&put", `buffer -N ${MAX_FANOUT}`, `upsize -D ${D}`, `dnsize -D ${D}`, "stime -p"].join("\n") + "\n";
}

// ---------------------------------------------------------------- module index (which file defines what)

export function moduleIndex(files: readonly GeneratedFile[]): { fileOf: Map<string, GeneratedFile>; deps: Map<string, string[]> } {
  const fileOf = new Map<string, GeneratedFile>();
  const bodies = new Map<string, string>();
  for (const f of files) {
    if (!f.path.endsWith(".v")) continue;
    const text = f.content.replace(/\/\/[^\n]*/g, "").replace(/\/\*[\s\S]*?\*\//g, "");
    const re = /\bmodule\s+([A-Za-z_][A-Za-z0-9_$]*)([\s\S]*?)\bendmodule\b/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      if (fileOf.has(m[1]) && fileOf.get(m[1]) !== f) throw new Error(`module ${m[1]} is defined in ${fileOf.get(m[1])!.path} and ${f.path}`);
      fileOf.set(m[1], f);
      bodies.set(m[1], m[2]);
    }
  }
  const deps = new Map<string, string[]>();
  const all = [...fileOf.keys()];
  for (const [mod, body] of bodies) {
    const ids = new Set(body.match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? []);
    deps.set(
      mod,
      all.filter((o) => o !== mod && ids.has(o)),
    );
  }
  return { fileOf, deps };
}

/** Files of a module's hierarchy (the module and everything it instantiates), sorted by path. */
export function hierarchyFiles(files: readonly GeneratedFile[], top: string, index = moduleIndex(files)): GeneratedFile[] {
  if (!index.fileOf.has(top)) throw new Error(`no design file defines module ${top}`);
  const seen = new Set<string>();
  const stack = [top];
  while (stack.length) {
    const m = stack.pop()!;
    if (seen.has(m)) continue;
    seen.add(m);
    for (const d of index.deps.get(m) ?? []) stack.push(d);
  }
  return [...new Set([...seen].map((m) => index.fileOf.get(m)!))].sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Synthesis files: rtl + blackbox stubs (never behavioral macro models). */
export const synthFiles = (files: readonly GeneratedFile[]) => files.filter((f) => (f.kind === "rtl" || f.kind === "stub") && f.path.endsWith(".v"));

// ---------------------------------------------------------------- one module

export interface SynthConfig {
  lib: CellLibrary;
  /** clock target (MHz): ABC's delay target and the SDC period */
  clockMHz: number;
  /** parallel Yosys processes (default: the machine's cores) */
  jobs?: number;
  cache?: CacheOptions;
  /** progress label (default "synth"); false: silent */
  progressLabel?: string | false;
  /** where progress lines go and how often in plain mode (tests) */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  progressIntervalMs?: number;
}

export interface ModuleSynth {
  module: string;
  /** structural Verilog of the mapped module (inside the cache entry: read only) */
  verilog: string;
  /** the same netlist as Yosys JSON (one module) */
  json: string;
  cells: Record<string, number>;
  cellCount: number;
  stdCellAreaUm2: number;
  macroAreaUm2: number;
  areaUm2: number;
  flops: number;
  latches: number;
  macros: Record<string, number>;
  fanoutBuffers: number;
  ties: number;
  /** Yosys `stat -liberty` chip area of the mapped module before st3d's clean-up (std cells only) */
  yosysAreaUm2: number | null;
  hit: boolean;
  seconds: number;
  /** the module is wiring only (a top) */
  top: boolean;
}

interface Stored {
  cells: Record<string, number>;
  fanoutBuffers: number;
  ties: number;
  yosysAreaUm2: number | null;
}

/** SRAM model of every macro cell type present (by name), at the library's node. */
export function macroModels(lib: CellLibrary, cells: Record<string, number>): Map<string, SramAtNode> {
  const out = new Map<string, SramAtNode>();
  for (const t of Object.keys(cells)) {
    const s = macroShape(t);
    if (s) out.set(t, sramAtNode(t, s.ports, s.depth, s.width, lib.sram));
  }
  return out;
}

export function areaOf(lib: CellLibrary, cells: Record<string, number>): { std: number; macro: number; flops: number; latches: number; macros: Record<string, number>; unknown: string[] } {
  let std = 0;
  let macro = 0;
  let flops = 0;
  let latches = 0;
  const macros: Record<string, number> = {};
  const unknown: string[] = [];
  const mm = macroModels(lib, cells);
  for (const [t, n] of Object.entries(cells)) {
    const lc = lib.lib.cells.get(t);
    if (lc) {
      std += lc.area * n;
      if (lc.kind === "ff") flops += n;
      if (lc.kind === "latch") latches += n;
    } else if (mm.has(t)) {
      macro += mm.get(t)!.areaUm2 * n;
      macros[t] = n;
    } else if (t === "ST3D_TIEHI" || t === "ST3D_TIELO") {
      /* rails: no area */
    } else unknown.push(t);
  }
  return { std, macro, flops, latches, macros, unknown };
}

function writeSources(dir: string, files: readonly GeneratedFile[]): string[] {
  return files.map((f) => {
    const p = path.join(dir, "src", f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.content);
    return p;
  });
}

function readStat(dir: string): number | null {
  const f = path.join(dir, "stat.txt");
  if (!fs.existsSync(f)) return null;
  const m = fs.readFileSync(f, "utf8").match(/Chip area for (?:module|top module) '[^']*':\s*([0-9.eE+-]+)/);
  return m ? Number(m[1]) : null;
}

/** Time limit of one module's synthesis ($ST3D_SYNTH_TIMEOUT_MIN, default 12 h: the default preset's halves take an hour on a busy 2-core machine). */
const SYNTH_TIMEOUT_MS = (Number(process.env.ST3D_SYNTH_TIMEOUT_MIN) > 0 ? Number(process.env.ST3D_SYNTH_TIMEOUT_MIN) : 12 * 60) * 60_000;

async function yosys(script: string, dir: string, what: string): Promise<void> {
  const res = await runYosysScript(script, dir, { timeoutMs: SYNTH_TIMEOUT_MS });
  if (res.timedOut) throw new ToolFailedError("yosys", res.output, `${what}: Yosys did not finish within ${SYNTH_TIMEOUT_MS / 60_000} min (set ST3D_SYNTH_TIMEOUT_MIN for more)`);
  if (res.code !== 0) {
    const logFile = path.join(dir, "yosys.log");
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : res.output;
    const latch = /select -assert-none/.test(log) && /Assertion failed/.test(log);
    const tailLines = log.split("\n").slice(-25).join("\n");
    throw new ToolFailedError("yosys", log, latch ? `${what}: latch inferred (st3d designs must be latch-free); see ${logFile}\n${tailLines}` : `yosys failed (${what}):\n${tailLines}`);
  }
}

/**
 * Map one module (logic) or clean one top (wiring) into the cache entry `dir`.
 * `children`: for a top, the modules it instantiates (read as blackboxes).
 */
/** Yosys' part (cache kind "yosys-map"): the raw mapped JSON and Yosys' own stat -liberty. */
async function mapWithYosys(dir: string, module: string, hier: GeneratedFile[], cfg: SynthConfig, top: boolean): Promise<{ yosysAreaUm2: number | null }> {
  const lib = cfg.lib;
  const work = path.join(dir, "work");
  fs.mkdirSync(work, { recursive: true });
  const periodPs = 1e6 / cfg.clockMHz;
  const L = lib.liberty;
  let script: string[];
  if (!top) {
    const srcs = writeSources(work, hier);
    fs.writeFileSync(path.join(work, "abc.script"), abcScript(periodPs));
    script = [
      `read_liberty -lib ${L}`,
      ...srcs.map((p) => `read_verilog -defer ${p}`),
      `hierarchy -check -top ${module}`,
      `synth -top ${module} -flatten`,
      "select -assert-none t:$_DLATCH_* t:$_DLATCHSR_* t:$_SR_* t:$dlatch t:$adlatch t:$dlatchsr t:$sr",
      `dfflibmap -liberty ${L}`,
      `abc -D ${Math.round(periodPs)} -script ${path.join(work, "abc.script")} -liberty ${L}`,
      "opt_clean -purge",
      `tee -q -o ${path.join(work, "stat.txt")} stat -liberty ${L}`,
      `write_json ${path.join(dir, "mapped.json")}`,
    ];
  } else {
    const own = hier.filter((f) => new RegExp(`\\bmodule\\s+${module}\\b`).test(f.content));
    const others = hier.filter((f) => !own.includes(f));
    const srcsLib = writeSources(work, others);
    const srcsTop = writeSources(work, own);
    script = [
      `read_liberty -lib ${L}`,
      ...srcsLib.map((p) => `read_verilog -lib ${p}`),
      ...srcsTop.map((p) => `read_verilog -defer ${p}`),
      `hierarchy -check -top ${module}`,
      "proc",
      // keep every public net name: the flat views find the nets of the 2D netlist by name
      "opt_clean",
      `write_json ${path.join(dir, "mapped.json")}`,
    ];
  }
  await yosys(script.join("\n") + "\n", work, `${top ? "top" : "synthesis of"} ${module}`);
  const yosysAreaUm2 = top ? null : readStat(work);
  fs.rmSync(work, { recursive: true, force: true });
  return { yosysAreaUm2 };
}

/** Worker entry of buildModule (large modules: the main thread keeps its heartbeat). */
export async function postProcessJob(a: { dir: string; module: string; rawDir: string; raw: { yosysAreaUm2: number | null }; libOptions: LibraryOptions; top: boolean }): Promise<Stored> {
  return buildModule(a.dir, a.module, a.rawDir, a.raw, loadLibrary(a.libOptions), a.top);
}

/** Raw mapped JSON above this size is cleaned up in a worker thread. */
const WORKER_BYTES = 4 << 20;

/** st3d's part (cache kind "synth"): clean-up of the raw mapped JSON into `<module>.v` and `<module>.json`. */
async function buildModule(dir: string, module: string, rawDir: string, raw: { yosysAreaUm2: number | null }, lib: CellLibrary, top: boolean): Promise<Stored> {
  const json = JSON.parse(fs.readFileSync(path.join(rawDir, "mapped.json"), "utf8")) as YDesign;
  const m = json.modules[module];
  if (!m) throw new Error(`yosys JSON of ${module}: module missing`);
  const generic = Object.keys(histogram(m)).filter((t) => t.startsWith("$"));
  if (generic.length) throw new Error(`mapped ${module} still has generic cells (${generic.join(", ")}): the liberty ${lib.liberty} cannot implement them`);
  const norm = normalizePorts(lib, m);
  const tied = tieConstants(lib, m);
  const fanoutBuffers = top ? 0 : repairFanout(lib, m, MAX_FANOUT);
  const em = emitVerilog(lib, module, m);
  fs.writeFileSync(path.join(dir, `${module}.v`), `// ${module}: mapped onto ${lib.name} by st3d (Yosys + ABC, fanout repair ${MAX_FANOUT}); do not edit.\n` + em.verilog);
  // the JSON keeps the instance names of the Verilog (`_12_`, not `$abc$...`), so flat views name cells alike
  m.cells = Object.fromEntries(Object.entries(m.cells).map(([k, c]) => [unescape(em.cellNames.get(k)!), { ...c, hide_name: 0 }]));
  fs.writeFileSync(path.join(dir, `${module}.json`), JSON.stringify(m));
  return { cells: em.cells, fanoutBuffers, ties: em.ties + norm.ties + tied, yosysAreaUm2: raw.yosysAreaUm2 };
}

const unescape = (v: string) => (v.startsWith("\\") ? v.slice(1, -1) : v);

function toResult(lib: CellLibrary, module: string, dir: string, v: Stored, hit: boolean, seconds: number, top: boolean, designModules: ReadonlySet<string>): ModuleSynth {
  const a = areaOf(lib, v.cells);
  a.unknown = a.unknown.filter((t) => !(top && designModules.has(t)));
  if (a.unknown.length) throw new Error(`mapped ${module}: cells ${a.unknown.join(", ")} are neither in ${lib.liberty} nor SRAM macros`);
  return {
    module,
    verilog: path.join(dir, `${module}.v`),
    json: path.join(dir, `${module}.json`),
    cells: v.cells,
    cellCount: Object.values(v.cells).reduce((s, n) => s + n, 0),
    stdCellAreaUm2: a.std,
    macroAreaUm2: a.macro,
    areaUm2: a.std + a.macro,
    flops: a.flops,
    latches: a.latches,
    macros: a.macros,
    fanoutBuffers: v.fanoutBuffers,
    ties: v.ties,
    yosysAreaUm2: v.yosysAreaUm2,
    hit,
    seconds,
    top,
  };
}

/** The cache key of one module: script, tools, library, target, and the text of every file its hierarchy reads. */
export async function moduleKey(module: string, hier: readonly GeneratedFile[], cfg: SynthConfig, top: boolean): Promise<string> {
  // the header line naming the config hash is a comment: it does not change the netlist, so configs that differ
  // only elsewhere (e.g. integration.mode) share the cached modules
  const text = (f: GeneratedFile) => f.content.replace(/^\/\/ Generated by st3d [^\n]*config hash [0-9a-f]+[^\n]*\n/m, "");
  return cacheKey(SYNTH_SCRIPT_VERSION, await yosysVersion(), cfg.lib.hash, String(MAX_FANOUT), top ? "top-2" : abcScript(1e6 / cfg.clockMHz), module, ...hier.flatMap((f) => [f.path, text(f)]));
}

/**
 * Synthesize modules (logic) and tops (wiring) of a design, in parallel, cached.  Returns one
 * result per module name.  `tops` are modules that only wire instances of others.
 */
export async function synthModules(files: readonly GeneratedFile[], modules: readonly string[], tops: readonly string[], cfg: SynthConfig): Promise<Map<string, ModuleSynth>> {
  const sf = synthFiles(files);
  const index = moduleIndex(sf);
  const all = [...new Set(modules)].sort().map((m) => ({ module: m, top: false })).concat([...new Set(tops)].map((m) => ({ module: m, top: true })));
  const label = cfg.progressLabel === false ? null : (cfg.progressLabel ?? "synth");
  const p: Progress | null = label ? progress(label, { total: all.length, unit: "modules", stream: cfg.progressStream, intervalMs: cfg.progressIntervalMs }) : null;
  const out = new Map<string, ModuleSynth>();
  let hits = 0;
  // the modules in Yosys right now: the progress line names them (a big module can take minutes)
  const running = new Set<string>();
  const runningNote = () => (running.size ? `running ${[...running].join(", ")}` : "");
  try {
    await runPool(all, cfg.jobs ?? defaultJobs(), async ({ module, top }) => {
      const t0 = Date.now();
      running.add(module);
      p?.tick(0, runningNote());
      const hier = hierarchyFiles(sf, module, index);
      const rawKey = await moduleKey(module, hier, cfg, top);
      const raw = await cached<{ yosysAreaUm2: number | null }>("yosys-map", rawKey, (dir) => mapWithYosys(dir, module, hier, cfg, top), cfg.cache);
      const key = cacheKey(POST_VERSION, rawKey, cfg.lib.hash, String(MAX_FANOUT));
      const big = fs.statSync(path.join(raw.dir, "mapped.json")).size > WORKER_BYTES;
      const e = await cached<Stored>(
        "synth",
        key,
        (dir) => (big ? inWorker<Stored>(import.meta.url, "postProcessJob", { dir, module, rawDir: raw.dir, raw: raw.value, libOptions: cfg.lib.options, top }) : buildModule(dir, module, raw.dir, raw.value, cfg.lib, top)),
        cfg.cache,
      );
      if (e.hit && raw.hit) hits++;
      const res = toResult(cfg.lib, module, e.dir, e.value, e.hit && raw.hit, (Date.now() - t0) / 1000, top, new Set(index.fileOf.keys()));
      if (res.latches) throw new ToolFailedError("yosys", "", `${module}: ${res.latches} latch cell(s) in the mapped netlist`);
      out.set(module, res);
      running.delete(module);
      const finished = `${module}${e.hit ? " (cached)" : ""} done`;
      p?.tick(1, running.size ? `${finished}; ${runningNote()}` : finished);
    });
  } catch (e) {
    p?.fail();
    throw e;
  }
  p?.done(`${all.length} modules mapped onto ${cfg.lib.name} (${hits} from the cache)`);
  return out;
}

// ---------------------------------------------------------------- flat views (STA, partition.txt)

export interface FlatView {
  top: string;
  /** flat structural Verilog (cache entry, read only) */
  verilog: string;
  /** flat Yosys JSON of the same netlist */
  json: string;
  /** liberty files the view needs besides the cell library: macro libs, tie cells */
  extraLibs: string[];
  cells: number;
  hit: boolean;
}

/**
 * Flatten a top over the mapped modules (Yosys `flatten`), clean it again (ties, aliases), and
 * write the macro liberties next to it.  Cell names keep the instance path:
 * `u_dataflow._123_`, `u_tier_top.u_mem_wa.u_b0c0`.
 */
export async function flatView(top: string, mods: ReadonlyMap<string, ModuleSynth>, cfg: SynthConfig): Promise<FlatView> {
  const lib = cfg.lib;
  const used = [...mods.values()].sort((a, b) => (a.module < b.module ? -1 : 1));
  const macroTypes = new Map<string, SramAtNode>();
  for (const m of used) for (const [t, s] of macroModels(lib, m.cells)) macroTypes.set(t, s);
  const key = cacheKey("flat-6", lib.hash, top, ...used.flatMap((m) => [m.module, fs.readFileSync(m.json, "utf8")]));
  const { macroLiberty } = await import("../blocks/memory/sramModel.ts");
  const e = await cached<{ cells: number }>(
    "flat",
    key,
    async (dir) => {
      for (const [t, s] of [...macroTypes.entries()].sort()) fs.writeFileSync(path.join(dir, `${t}.lib`), macroLiberty(s));
      if (lib.tie.st3d) fs.writeFileSync(path.join(dir, "st3d_tie.lib"), tieLiberty(lib.voltage));
      return inWorker<{ cells: number }>(import.meta.url, "flatJob", { dir, top, modules: used.map((m) => [m.module, m.json]), libOptions: lib.options });
    },
    cfg.cache,
  );
  const extraLibs = [...[...macroTypes.keys()].sort().map((t) => path.join(e.dir, `${t}.lib`)), ...(lib.tie.st3d ? [path.join(e.dir, "st3d_tie.lib")] : [])];
  return { top, verilog: path.join(e.dir, `${top}_flat.v`), json: path.join(e.dir, `${top}_flat.json`), extraLibs, cells: e.value.cells, hit: e.hit };
}

/** Worker: flatten `top` over the modules' JSON, clean it, write `<top>_flat.v` and `<top>_flat.json` into `dir`. */
export async function flatJob(a: { dir: string; top: string; modules: [string, string][]; libOptions: LibraryOptions }): Promise<{ cells: number }> {
  const lib = loadLibrary(a.libOptions);
  const modules = new Map<string, YModule>(a.modules.map(([name, file]) => [name, JSON.parse(fs.readFileSync(file, "utf8")) as YModule]));
  const m = flattenModule(a.top, modules);
  removeClockBuffers(lib, m);
  normalizePorts(lib, m);
  tieConstants(lib, m);
  const em = emitVerilog(lib, a.top, m);
  fs.writeFileSync(path.join(a.dir, `${a.top}_flat.v`), `// ${a.top}: flat netlist on ${lib.name} (st3d); do not edit.\n` + em.verilog);
  fs.writeFileSync(path.join(a.dir, `${a.top}_flat.json`), JSON.stringify({ modules: { [a.top]: m } }));
  return { cells: Object.values(em.cells).reduce((s, n) => s + n, 0) };
}

/** Top-level instance of a flat cell name: `u_x._1_` -> `u_x`; in a 3D view `u_tier_top.u_x._1_` -> `u_x`. */
export function blockOf(cellName: string, threeD = false): string {
  const parts = cellName.replace(/^\\/, "").split(".");
  if (threeD && parts.length > 1 && /^u_tier_(top|bottom)$/.test(parts[0])) return parts.length > 2 ? parts[1] : parts[0];
  return parts.length > 1 ? parts[0] : "<top>";
}
