/**
 * Area of every top-level instance, for tier balancing and the 3D manifest.
 *
 * Every instance's module is synthesized by Yosys (generic cells: `synth -top <module>`,
 * then `flatten`, with the memory macros kept as blackboxes: design files of kind "rtl" +
 * "stub"), and its cells are priced with NanGate45 X1 cells:
 *   - combinational generic cells -> NAND2 equivalents (NAND2_X1 = 0.798 µm²), table CELL_NAND2_EQ;
 *   - flip-flops -> DFF_X1 (4.522 µm²) plus the enable mux / sync-reset gate Yosys folds
 *     into the flop cell (in NAND2 equivalents), table below;
 *   - memory macros (blackbox cells `fakeram45[_2p]_<d>x<w>`) -> sramEstimate(d, w).
 * So a logic block's area comes from its own synthesis, a flop memory's from the flops and
 * muxes Yosys builds, and a macro memory's from its macros plus the wrapper's glue.
 *
 * Yosys is run synchronously (so the design build stays synchronous), once per module, and
 * its result (cell histogram + the synthesized module as RTLIL) is cached under
 * build/partition-cache/ by a hash of the module, the text of every file its hierarchy
 * reads, the script and the Yosys version.  The flattened netlist behind partition.txt is
 * assembled from those same synthesized modules (flatNetlist), so it holds exactly the
 * cells the areas were priced from.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import type { Netlist } from "../top/netlist.ts";
import { sramEstimate } from "../blocks/memory/sram.ts";
import { runYosysSync, yosysVersion } from "../toolchain/yosys.ts";
import type { GeneratedFile } from "../core/files.ts";
import { REPO_ROOT } from "../core/paths.ts";

/** NanGate45 X1 cell areas, µm² (open cell library LEF/LIB). */
export const NANGATE45 = {
  INV_X1: 0.532,
  BUF_X1: 0.798,
  NAND2_X1: 0.798,
  NOR2_X1: 0.798,
  AND2_X1: 1.064,
  OR2_X1: 1.064,
  XOR2_X1: 1.596,
  XNOR2_X1: 1.596,
  MUX2_X1: 1.862,
  AOI21_X1: 1.064,
  OAI21_X1: 1.064,
  AOI22_X1: 1.33,
  OAI22_X1: 1.33,
  DFF_X1: 4.522,
  DFFR_X1: 5.32,
  DFFRS_X1: 6.384,
} as const;

const G = (um2: number) => um2 / NANGATE45.NAND2_X1;

/**
 * Yosys generic combinational cell -> NAND2 equivalents (area of the NanGate45 X1 cell or
 * pair of cells that implements it / NAND2_X1).
 */
export const CELL_NAND2_EQ: Record<string, { nand2: number; as: string }> = {
  $_BUF_: { nand2: G(NANGATE45.BUF_X1), as: "BUF_X1" },
  $_NOT_: { nand2: G(NANGATE45.INV_X1), as: "INV_X1" },
  $_AND_: { nand2: G(NANGATE45.AND2_X1), as: "AND2_X1" },
  $_NAND_: { nand2: G(NANGATE45.NAND2_X1), as: "NAND2_X1" },
  $_OR_: { nand2: G(NANGATE45.OR2_X1), as: "OR2_X1" },
  $_NOR_: { nand2: G(NANGATE45.NOR2_X1), as: "NOR2_X1" },
  $_XOR_: { nand2: G(NANGATE45.XOR2_X1), as: "XOR2_X1" },
  $_XNOR_: { nand2: G(NANGATE45.XNOR2_X1), as: "XNOR2_X1" },
  $_ANDNOT_: { nand2: G(NANGATE45.INV_X1 + NANGATE45.NOR2_X1), as: "INV_X1 + NOR2_X1" },
  $_ORNOT_: { nand2: G(NANGATE45.INV_X1 + NANGATE45.NAND2_X1), as: "INV_X1 + NAND2_X1" },
  $_MUX_: { nand2: G(NANGATE45.MUX2_X1), as: "MUX2_X1" },
  $_NMUX_: { nand2: G(NANGATE45.MUX2_X1 + NANGATE45.INV_X1), as: "MUX2_X1 + INV_X1" },
  $_AOI3_: { nand2: G(NANGATE45.AOI21_X1), as: "AOI21_X1" },
  $_OAI3_: { nand2: G(NANGATE45.OAI21_X1), as: "OAI21_X1" },
  $_AOI4_: { nand2: G(NANGATE45.AOI22_X1), as: "AOI22_X1" },
  $_OAI4_: { nand2: G(NANGATE45.OAI22_X1), as: "OAI22_X1" },
  $_MUX4_: { nand2: G(3 * NANGATE45.MUX2_X1), as: "3 x MUX2_X1" },
  $_MUX8_: { nand2: G(7 * NANGATE45.MUX2_X1), as: "7 x MUX2_X1" },
  $_MUX16_: { nand2: G(15 * NANGATE45.MUX2_X1), as: "15 x MUX2_X1" },
};

/**
 * A flip-flop cell -> (flop master area, extra gating in NAND2 equivalents), or null when
 * the type is not a flop.  Enable (`E`) -> one MUX2_X1; synchronous reset/set (`SDFF*`)
 * -> one AND2_X1; asynchronous reset -> DFFR_X1; async set+reset -> DFFRS_X1.
 */
export function flopArea(type: string): { um2: number; as: string } | null {
  const withGates = (base: number, baseName: string, en: boolean, srst: boolean) => ({
    um2: base + (en ? NANGATE45.MUX2_X1 : 0) + (srst ? NANGATE45.AND2_X1 : 0),
    as: [baseName, en ? "MUX2_X1" : "", srst ? "AND2_X1" : ""].filter(Boolean).join(" + "),
  });
  if (/^\$_DFF_[NP]_$/.test(type)) return withGates(NANGATE45.DFF_X1, "DFF_X1", false, false);
  if (/^\$_DFFE_[NP][NP]_$/.test(type)) return withGates(NANGATE45.DFF_X1, "DFF_X1", true, false);
  if (/^\$_SDFF_[NP][NP][01]_$/.test(type)) return withGates(NANGATE45.DFF_X1, "DFF_X1", false, true);
  if (/^\$_SDFFC?E_[NP][NP][01][NP]_$/.test(type)) return withGates(NANGATE45.DFF_X1, "DFF_X1", true, true);
  if (/^\$_DFF_[NP][NP][01]_$/.test(type)) return withGates(NANGATE45.DFFR_X1, "DFFR_X1", false, false);
  if (/^\$_DFFE_[NP][NP][01][NP]_$/.test(type)) return withGates(NANGATE45.DFFR_X1, "DFFR_X1", true, false);
  if (/^\$_DFFSRE?_/.test(type)) return withGates(NANGATE45.DFFRS_X1, "DFFRS_X1", /E_/.test(type), false);
  return null;
}

/** `fakeram45_<d>x<w>` / `fakeram45_2p_<d>x<w>` -> depth, width. */
export function macroShape(type: string): { depth: number; width: number } | null {
  const m = type.match(/^fakeram45_(?:2p_)?(\d+)x(\d+)$/);
  return m ? { depth: Number(m[1]), width: Number(m[2]) } : null;
}

export interface CellAreas {
  /** µm² of combinational generic cells */
  logicUm2: number;
  /** NAND2 equivalents of the combinational cells */
  nand2Eq: number;
  /** µm² of flip-flops (incl. folded enable/reset gates) */
  flopUm2: number;
  flops: number;
  /** µm² of memory macros (sramEstimate) */
  macroUm2: number;
  macros: Record<string, number>;
  /** cell types with no entry in the tables (priced as one NAND2 each) */
  unmapped: Record<string, number>;
  totalUm2: number;
}

/** Price a `num_cells_by_type` histogram. */
export function priceCells(cells: Record<string, number>): CellAreas {
  const a: CellAreas = { logicUm2: 0, nand2Eq: 0, flopUm2: 0, flops: 0, macroUm2: 0, macros: {}, unmapped: {}, totalUm2: 0 };
  for (const [type, count] of Object.entries(cells)) {
    const g = CELL_NAND2_EQ[type];
    const f = g ? null : flopArea(type);
    const mac = g || f ? null : macroShape(type);
    if (g) {
      a.nand2Eq += g.nand2 * count;
    } else if (f) {
      a.flopUm2 += f.um2 * count;
      a.flops += count;
    } else if (mac) {
      a.macroUm2 += sramEstimate(mac.depth, mac.width).areaUm2 * count;
      a.macros[type] = (a.macros[type] ?? 0) + count;
    } else {
      a.unmapped[type] = (a.unmapped[type] ?? 0) + count;
      a.nand2Eq += count;
    }
  }
  a.logicUm2 = a.nand2Eq * NANGATE45.NAND2_X1;
  a.totalUm2 = a.logicUm2 + a.flopUm2 + a.macroUm2;
  return a;
}

// ---------------------------------------------------------------- Yosys (synchronous, cached)

/** Yosys result cache (override with ST3D_PARTITION_CACHE). */
export const CACHE_DIR = process.env.ST3D_PARTITION_CACHE ? path.resolve(process.env.ST3D_PARTITION_CACHE) : path.join(REPO_ROOT, "build", "partition-cache");

/** Modules defined by each Verilog file, and which other modules each module names. */
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
  for (const [mod, body] of bodies) {
    const ids = new Set(body.match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? []);
    deps.set(
      mod,
      [...fileOf.keys()].filter((o) => o !== mod && ids.has(o)),
    );
  }
  return { fileOf, deps };
}

/** Files of a module's hierarchy (the module, everything it instantiates), sorted by path. */
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

function hashOf(parts: string[]): string {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(String(p.length)).update(":").update(p);
  return h.digest("hex").slice(0, 24);
}

const AREA_SCRIPT_VERSION = "areas-2";

export interface ModuleSynth {
  module: string;
  /** generic-cell histogram of the module's flattened hierarchy (macros as blackbox cells) */
  cells: Record<string, number>;
  /** the synthesized, flattened module as RTLIL (reused by flatNetlist) */
  rtlil: string;
}

/** A fresh work folder private to this process (parallel test workers share the cache). */
function workDir(cacheDir: string, tag: string): string {
  const d = path.join(cacheDir, `work-${tag}-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  fs.rmSync(d, { recursive: true, force: true });
  return d;
}

/** Write a cache file atomically (temp file + rename), so a reader never sees half of it. */
function publish(file: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}

function writeSources(work: string, files: readonly GeneratedFile[]): string[] {
  fs.mkdirSync(path.join(work, "src"), { recursive: true });
  return files.map((f) => {
    const p = path.join(work, "src", f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.content);
    return p;
  });
}

/**
 * Synthesize one module on its own (`synth -top <module>`, then `flatten`; memory macros stay
 * blackbox cells), cached under the cache folder by the hash of the module name, the text of
 * every file its hierarchy reads, this script and the Yosys version.
 */
export function synthModule(files: readonly GeneratedFile[], module: string, opts: { cacheDir?: string; index?: ReturnType<typeof moduleIndex> } = {}): ModuleSynth {
  const hier = hierarchyFiles(synthFiles(files), module, opts.index);
  const key = hashOf([AREA_SCRIPT_VERSION, yosysVersion(), module, ...hier.flatMap((f) => [f.path, f.content])]);
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const cellsFile = path.join(cacheDir, `cells-${module}-${key}.json`);
  const ilFile = path.join(cacheDir, `synth-${module}-${key}.il`);
  if (fs.existsSync(cellsFile) && fs.existsSync(ilFile)) return { module, cells: JSON.parse(fs.readFileSync(cellsFile, "utf8")).cells, rtlil: ilFile };
  const work = workDir(cacheDir, `${module}-${key}`);
  fs.rmSync(work, { recursive: true, force: true });
  const paths = writeSources(work, hier);
  const script =
    [
      ...paths.map((p) => `read_verilog -defer ${p}`),
      `hierarchy -check -top ${module}`,
      `synth -top ${module}`,
      "flatten",
      "tee -q -o stat.json stat -json",
      `select ${module}`,
      "write_rtlil -selected module.il",
    ].join("\n") + "\n";
  runYosysSync(script, work, `synthesis of ${module}`);
  const text = fs.readFileSync(path.join(work, "stat.json"), "utf8");
  const stat = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  const mods = stat.modules ?? {};
  const entry = mods[`\\${module}`] ?? mods[module];
  if (!entry) throw new Error(`yosys stat of ${module}: module missing`);
  const cells: Record<string, number> = entry.num_cells_by_type ?? {};
  publish(ilFile, fs.readFileSync(path.join(work, "module.il")));
  publish(cellsFile, JSON.stringify({ module, cells }, null, 1) + "\n");
  fs.rmSync(work, { recursive: true, force: true });
  return { module, cells, rtlil: ilFile };
}

/** Generic-cell histogram of one module (see synthModule). */
export function moduleCells(files: readonly GeneratedFile[], module: string, opts: { cacheDir?: string; index?: ReturnType<typeof moduleIndex> } = {}): Record<string, number> {
  return synthModule(files, module, opts).cells;
}

export interface InstanceArea {
  inst: string;
  module: string;
  kind: "logic" | "memory";
  areaUm2: number;
  cells: CellAreas;
  /** "yosys" (cells priced as documented), plus "+sramEstimate" when macros are present */
  source: string;
}

export interface AreaEstimate {
  /** µm² per instance name */
  um2: Map<string, number>;
  detail: InstanceArea[];
  totalUm2: number;
  /** cell types priced as one NAND2 because they have no table entry (should be empty) */
  unmapped: Record<string, number>;
}

/**
 * Area of every instance of the netlist: its module synthesized on its own (Yosys, cached
 * per module content hash), cells priced as documented above.  `files` are the design files
 * (every module the instances use, kinds "rtl" and "stub" are read).
 */
export function estimateAreas(_r: Resolved, netlist: Netlist, files: readonly GeneratedFile[], opts: { cacheDir?: string } = {}): AreaEstimate {
  const index = moduleIndex(synthFiles(files));
  const byModule = new Map<string, CellAreas>();
  const detail: InstanceArea[] = [];
  const unmapped: Record<string, number> = {};
  for (const inst of netlist.instances) {
    let cells = byModule.get(inst.module);
    if (!cells) {
      cells = priceCells(moduleCells(files, inst.module, { cacheDir: opts.cacheDir, index }));
      byModule.set(inst.module, cells);
    }
    for (const [t, c] of Object.entries(cells.unmapped)) unmapped[t] = (unmapped[t] ?? 0) + c;
    detail.push({ inst: inst.name, module: inst.module, kind: inst.kind, areaUm2: cells.totalUm2, cells, source: cells.macroUm2 > 0 ? "yosys+sramEstimate" : "yosys" });
  }
  const um2 = new Map(detail.map((d) => [d.inst, d.areaUm2]));
  return { um2, detail, totalUm2: detail.reduce((a, d) => a + d.areaUm2, 0), unmapped };
}

// ---------------------------------------------------------------- flattened netlist of a top

export interface FlatNetlist {
  top: string;
  /** cell names as Yosys writes them (JSON), e.g. `$flatten\u_ctrl.$abc$...` or `u_ctrl.foo` */
  cells: { name: string; type: string }[];
  ports: { name: string; direction: string; width: number }[];
}

const FLAT_SCRIPT_VERSION = "flat-3";

/**
 * The flattened generic-cell netlist of the structural top `netlist.module`: every top-level
 * instance's module as synthesized by synthModule (cached RTLIL, so the cells are exactly
 * the ones its area was priced from), the blackbox macro stubs and the top, then `flatten`.
 * Cell names keep the instance path (`$flatten\u_ctrl.$abc$...`, `u_ctrl.x`).  With
 * `keepVerilog` the netlist is also returned as Verilog (`write_verilog -noexpr -norename`,
 * so every cell is an instance under the name partition.txt uses).
 */
export function flatNetlist(files: readonly GeneratedFile[], netlist: Netlist, opts: { cacheDir?: string; keepVerilog?: boolean } = {}): FlatNetlist & { verilog?: string } {
  const top = netlist.module;
  const sf = synthFiles(files);
  const index = moduleIndex(sf);
  const modules = [...new Set(netlist.instances.map((i) => i.module))].sort();
  const synths = modules.map((m) => synthModule(files, m, { cacheDir: opts.cacheDir, index }));
  const topFile = index.fileOf.get(top);
  if (!topFile) throw new Error(`no design file defines the top ${top}`);
  const stubs = sf.filter((f) => f.kind === "stub");
  const key = hashOf([FLAT_SCRIPT_VERSION, yosysVersion(), top, topFile.content, ...synths.map((x) => fs.readFileSync(x.rtlil, "utf8")), ...stubs.flatMap((f) => [f.path, f.content])]);
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const cacheFile = path.join(cacheDir, `flat-${top}-${key}.json`);
  const vFile = path.join(cacheDir, `flat-${top}-${key}.v`);
  if (fs.existsSync(cacheFile) && (!opts.keepVerilog || fs.existsSync(vFile))) {
    const cached = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as FlatNetlist;
    return opts.keepVerilog ? { ...cached, verilog: fs.readFileSync(vFile, "utf8") } : cached;
  }
  const work = workDir(cacheDir, `flat-${top}-${key}`);
  fs.rmSync(work, { recursive: true, force: true });
  const paths = writeSources(work, [...stubs, topFile]);
  const script =
    [
      ...synths.map((x) => `read_rtlil ${x.rtlil}`),
      ...paths.map((p) => `read_verilog -defer ${p}`),
      `hierarchy -check -top ${top}`,
      "flatten",
      "write_json flat.json",
      ...(opts.keepVerilog ? ["write_verilog -noattr -noexpr -norename flat.v"] : []),
    ].join("\n") + "\n";
  runYosysSync(script, work, `flat netlist of ${top}`);
  const json = JSON.parse(fs.readFileSync(path.join(work, "flat.json"), "utf8"));
  const mod = json.modules[top];
  if (!mod) throw new Error(`flat netlist: module ${top} missing from the Yosys JSON`);
  const cells = Object.entries(mod.cells as Record<string, { type: string }>).map(([name, c]) => ({ name, type: c.type }));
  const ports = Object.entries(mod.ports as Record<string, { direction: string; bits: unknown[] }>).map(([name, p]) => ({ name, direction: p.direction, width: p.bits.length }));
  const res: FlatNetlist = { top, cells, ports };
  if (opts.keepVerilog) publish(vFile, fs.readFileSync(path.join(work, "flat.v")));
  publish(cacheFile, JSON.stringify(res) + "\n");
  fs.rmSync(work, { recursive: true, force: true });
  return opts.keepVerilog ? { ...res, verilog: fs.readFileSync(vFile, "utf8") } : res;
}

/**
 * Elaborate a structural top (e.g. a tier top) over the synthesized modules of its instances
 * (synthModule, cached), flatten it and return its cell histogram: Yosys `hierarchy -check`
 * (every instance's module and ports exist), `check -assert` (no driver conflicts, no
 * undriven used wires) and `stat`.  The top's file must be among `files`.
 */
export function elaborateTop(files: readonly GeneratedFile[], netlist: Netlist, opts: { cacheDir?: string } = {}): Record<string, number> {
  const top = netlist.module;
  const sf = synthFiles(files);
  const index = moduleIndex(sf);
  const modules = [...new Set(netlist.instances.map((i) => i.module))].sort();
  const synths = modules.map((m) => synthModule(files, m, { cacheDir: opts.cacheDir, index }));
  const topFile = index.fileOf.get(top);
  if (!topFile) throw new Error(`no design file defines the top ${top}`);
  const cacheDir = opts.cacheDir ?? CACHE_DIR;
  const work = workDir(cacheDir, `elab-${top}`);
  fs.rmSync(work, { recursive: true, force: true });
  const paths = writeSources(work, [...sf.filter((f) => f.kind === "stub"), topFile]);
  const script =
    [...synths.map((x) => `read_rtlil ${x.rtlil}`), ...paths.map((p) => `read_verilog -defer ${p}`), `hierarchy -check -top ${top}`, "flatten", "check -assert", "tee -q -o stat.json stat -json"].join("\n") + "\n";
  runYosysSync(script, work, `elaboration of ${top}`);
  const text = fs.readFileSync(path.join(work, "stat.json"), "utf8");
  const stat = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
  const entry = (stat.modules ?? {})[`\\${top}`] ?? (stat.modules ?? {})[top];
  fs.rmSync(work, { recursive: true, force: true });
  return entry?.num_cells_by_type ?? {};
}

/** Cell histogram per top-level instance of a flat netlist. */
export function cellsByInstance(flat: FlatNetlist): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const c of flat.cells) {
    const i = topInstanceOf(c.name);
    const h = out.get(i) ?? {};
    h[c.type] = (h[c.type] ?? 0) + 1;
    out.set(i, h);
  }
  return out;
}

/** Top-level instance a flattened cell belongs to: `$flatten\u_x.$abc$1` and `u_x.y` -> `u_x`. */
export function topInstanceOf(cellName: string): string {
  const s = cellName.replace(/^\$flatten/, "").replace(/^\\/, "");
  const dot = s.indexOf(".");
  return dot < 0 ? s : s.slice(0, dot);
}
