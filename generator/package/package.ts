/**
 * IP packaging of a generated design (docs/IP.md):
 *
 *   filelists/sim.f, filelists/synth.f      every top: simulation (rtl + behavioral macro models) and
 *                                           synthesis (rtl + blackbox macro stubs) file lists
 *   filelists/<top>.sim.f / .synth.f        per top, only the files that top instantiates
 *                                           (written when the design has more than one top)
 *   filelists/tb.f                          sim.f + the host testbench
 *   tb/<name>_host_tb.v                     the host-port testbench that `st3d run` uses (docs/HOST.md)
 *   synth/<name>_yosys.tcl                  Yosys generic-synthesis step for the FuseSoC synth target
 *   <name>.core                             FuseSoC CAPI2 core: filesets rtl, stubs, sim, tb;
 *                                           targets default, lint, sim, synth (+ per extra top)
 *
 * Paths in every list are relative to the output folder (run tools from there); the .core
 * file sits at the folder's root, where FuseSoC expects its files to be relative to.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import { OFFCHIP_ADDR_BITS, type Resolved } from "../config/resolve.ts";
import { renderOffchipMem } from "../blocks/weightStream/testbench.ts";
import { fileHeader, renderFile } from "../render/render.ts";
import { REG } from "../blocks/ctrl/ctrl.ts";
import type { GeneratedFile } from "../core/files.ts";
import { repoRelative } from "../core/paths.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The host-port testbench the product ships (tb/<name>_host_tb.v) and `st3d run` simulates. */
export const HOST_TB_TEMPLATE = path.join(here, "host_tb.v.hbs");
/** Files printed by this module rather than from a template (their headers name it). */
const THIS_MODULE = "generator/package/package.ts";

/** FuseSoC VLNV of a design's core: vendor st3d, library design, the design name, the st3d version. */
export const coreVlnv = (r: Pick<Resolved, "name" | "version">) => `st3d:design:${r.name}:${r.version}`;
export const coreFile = (name: string) => `${name}.core`;
export const hostTbModule = (name: string) => `${name}_host_tb`;
export const hostTbPath = (name: string) => `tb/${hostTbModule(name)}.v`;
export const yosysTclPath = (name: string) => `synth/${name}_yosys.tcl`;

const isVerilog = (f: GeneratedFile) => f.path.endsWith(".v");
/** Files a simulation of the design needs: synthesizable RTL + behavioral macro models (never stubs). */
export const simSources = (files: GeneratedFile[]) => files.filter((f) => (f.kind === "rtl" || f.kind === "sim") && isVerilog(f));
/** Files synthesis needs: synthesizable RTL + blackbox macro stubs (never a behavioral model). */
export const synthSources = (files: GeneratedFile[]) => files.filter((f) => (f.kind === "rtl" || f.kind === "stub") && isVerilog(f));

/**
 * The host testbench of a top (module `<name>_host_tb` by default).  `probe` is the
 * hierarchical path of the ctrl instance that `st3d run` observes under `define ST3D_PROBES
 * (block events, umem writes); default: the 2D top's `dut.u_ctrl`.
 */
export function renderHostTb(r: Pick<Resolved, "name" | "version" | "hash">, top: string, tbModule = hostTbModule(r.name), filePath = hostTbPath(r.name), probe = "dut.u_ctrl", dfProbe = "dut.u_dataflow"): GeneratedFile {
  const offchip = offchipTb(r);
  let body = renderFile(HOST_TB_TEMPLATE, { top, tbModule, regCtrl: REG.CTRL, regStatus: REG.STATUS, probe, dfProbe, ...(offchip ? { offchip: { module: offchip.module, addrMsb: offchip.addrMsb, beatMsb: offchip.beatMsb } } : {}) });
  // weights off chip: the AXI4 memory model serving the image (+wm_image=FILE ...), in the same file
  if (offchip) body += "\n" + renderOffchipMem({ module: offchip.module, beatBits: offchip.beatBits, addrBits: offchip.addrBits, depthBeats: offchip.depthBeats, plus: OFFCHIP_PLUS }).content;
  // keep `timescale as the first line of the file's Verilog (the header is comments only)
  return { path: filePath, kind: "tb", content: fileHeader(r, path.basename(filePath), `host-port testbench of ${top} (simulation only; docs/HOST.md)`, repoRelative(HOST_TB_TEMPLATE)) + body };
}

/** Plusarg prefix of the host testbench's off-chip memory model: +wm_image=, +wm_latency=, +wm_bw_num=, +wm_bw_den= ... */
export const OFFCHIP_PLUS = "wm_";

/** The host testbench's off-chip memory model (weights off chip), or undefined (weights on chip). */
export function offchipTb(r: Pick<Resolved, "name">): { module: string; beatBits: number; beatMsb: number; addrBits: number; addrMsb: number; depthBeats: number } | undefined {
  const w = (r as Partial<Resolved>).hw?.weights;
  if (!w || w.onChip) return undefined;
  return { module: `${r.name}_offchipMem`, beatBits: w.beatBits, beatMsb: w.beatBits - 1, addrBits: OFFCHIP_ADDR_BITS, addrMsb: OFFCHIP_ADDR_BITS - 1, depthBeats: w.imageWords * w.beatsPerWord };
}

// ------------------------------------------------------------------------------ hierarchy

/** Verilog text without comments and string literals (so names in comments are not dependencies). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"/g, " ");
}

const MODULE_DECL = /^\s*(?:\(\*[^*]*\*\)\s*)?(?:module|macromodule)\s+([A-Za-z_][A-Za-z0-9_$]*)/gm;

/** module name -> file, for the given files (a module declared twice is an error). */
export function moduleIndex(files: GeneratedFile[]): Map<string, GeneratedFile> {
  const idx = new Map<string, GeneratedFile>();
  for (const f of files) {
    for (const m of stripComments(f.content).matchAll(MODULE_DECL)) {
      const prev = idx.get(m[1]);
      if (prev && prev.path !== f.path) throw new Error(`internal error: module ${m[1]} is declared in ${prev.path} and in ${f.path}`);
      idx.set(m[1], f);
    }
  }
  return idx;
}

/**
 * The files a top needs, in the order of `files`: the top's file and, transitively, every file
 * declaring a module whose name appears (outside comments) in a file already needed.
 */
/** identifiers of a file outside comments (memoized: every filelist of every top scans the same files) */
const tokensOf = new WeakMap<GeneratedFile, Set<string>>();
function fileTokens(f: GeneratedFile): Set<string> {
  let t = tokensOf.get(f);
  if (!t) tokensOf.set(f, (t = new Set(stripComments(f.content).match(/[A-Za-z_][A-Za-z0-9_$]*/g) ?? [])));
  return t;
}

export function filesForTop(files: GeneratedFile[], top: string): GeneratedFile[] {
  const idx = moduleIndex(files);
  const first = idx.get(top);
  if (!first) throw new Error(`internal error: no file declares the top module ${top}`);
  const need = new Set<string>([first.path]);
  const work = [first];
  while (work.length) {
    const f = work.pop()!;
    for (const tok of fileTokens(f)) {
      const dep = idx.get(tok);
      if (dep && !need.has(dep.path)) {
        need.add(dep.path);
        work.push(dep);
      }
    }
  }
  return files.filter((f) => need.has(f.path));
}

// ------------------------------------------------------------------------------ filelists

/**
 * The paths of a filelist, without its comment lines (`//`, as Verilator and Icarus read them):
 * what a tool sees in `-f <list>`.
 */
export function readFilelist(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("//"));
}

/** Filelists of a design (see the file comment). `files` in generation order; `tops[0]` is the primary top. */
export function renderFilelists(r: Pick<Resolved, "name" | "version" | "hash">, files: GeneratedFile[], tops: string[], tb?: GeneratedFile): GeneratedFile[] {
  const list = (p: string, what: string, paths: string[]): GeneratedFile => ({
    path: p,
    kind: "data",
    content: fileHeader(r, path.basename(p), `${what}; paths relative to the generated folder (run tools from there)`, THIS_MODULE) + paths.map((x) => x + "\n").join(""),
  });
  const sim = simSources(files);
  const synth = synthSources(files);
  const out: GeneratedFile[] = [
    list("filelists/sim.f", "simulation filelist of every top: RTL + behavioral SRAM models", sim.map((f) => f.path)),
    list("filelists/synth.f", "synthesis filelist of every top: RTL + blackbox SRAM stubs", synth.map((f) => f.path)),
  ];
  if (tb) out.push(list("filelists/tb.f", "sim.f + the host testbench", [...sim.map((f) => f.path), tb.path]));
  if (tops.length > 1)
    for (const top of tops) {
      out.push(list(`filelists/${top}.sim.f`, `simulation filelist of ${top}`, filesForTop(sim, top).map((f) => f.path)));
      out.push(list(`filelists/${top}.synth.f`, `synthesis filelist of ${top}`, filesForTop(synth, top).map((f) => f.path)));
    }
  return out;
}

// ------------------------------------------------------------------------------ Yosys step

/** Tcl sourced by Edalize's Yosys template: generic synthesis instead of the FPGA `synth_<arch>`. */
export function renderYosysTcl(r: Pick<Resolved, "name" | "version" | "hash">): GeneratedFile {
  const p = yosysTclPath(r.name);
  const body = [
    "# FuseSoC/Edalize sources this file (file_type tclSource) while reading the design, after the",
    "# Verilog files and before its `synth $top` step.  It replaces that step, which Edalize maps to",
    "# the FPGA flow `synth_<arch>`, with Yosys' generic synthesis, the same as `st3d synth`:",
    "# SRAM macros stay blackbox cells (the `stubs` fileset), and an inferred latch is an error.",
    "proc synth {top} {",
    "  yosys hierarchy -check -top $top",
    "  yosys synth -top $top",
    "  yosys select -assert-none {t:$dlatch} {t:$_DLATCH_*} {t:$sr} {t:$dlatchsr}",
    "  yosys stat",
    "}",
    "",
  ].join("\n");
  return { path: p, kind: "data", content: fileHeader(r, path.basename(p), "Yosys synthesis step of the FuseSoC synth target", THIS_MODULE, "#") + body };
}

// ------------------------------------------------------------------------------ FuseSoC core

export interface CoreOptions {
  /** the design's tops; tops[0] is the accelerator top `<name>_top` */
  tops: string[];
  files: GeneratedFile[];
  tb: GeneratedFile;
  yosysTcl: GeneratedFile;
}

/** The CAPI2 body as a plain object (also what the tests check). */
export function coreObject(r: Pick<Resolved, "name" | "version" | "hash">, o: CoreOptions) {
  const paths = (kind: GeneratedFile["kind"]) => o.files.filter((f) => f.kind === kind && isVerilog(f)).map((f) => f.path);
  const vlog = (files: string[]) => ({ files, file_type: "verilogSource-2005" });
  const [top, ...otherTops] = o.tops;
  const tb = hostTbModule(r.name);
  const simVerilator = ["--timing", "-Wno-fatal", "-Wno-lint", "-Wno-style"];
  const targets: Record<string, unknown> = {
    default: { filesets: ["rtl"], toplevel: top },
    lint: {
      description: "verilator --lint-only -Wall (behavioral macro models)",
      default_tool: "verilator",
      filesets: ["rtl", "sim"],
      toplevel: top,
      tools: { verilator: { mode: "lint-only", verilator_options: ["-Wall"] } },
    },
    sim: {
      description: "one inference through the host port: +cmd=<command file> (docs/HOST.md), read values to +out=<file>",
      default_tool: "icarus",
      filesets: ["rtl", "sim", "tb"],
      toplevel: tb,
      parameters: ["cmd", "out", "maxcycles"],
      tools: {
        icarus: { iverilog_options: ["-g2005", "-Wno-timescale"] },
        verilator: { mode: "binary", verilator_options: simVerilator },
      },
    },
    synth: {
      description: "Yosys generic synthesis; SRAM macros kept as blackboxes; fails on a latch",
      default_tool: "yosys",
      filesets: ["rtl", "stubs", "synth_tcl"],
      toplevel: top,
      tools: { yosys: { arch: "generic", output_format: "json" } },
    },
  };
  for (const t of otherTops) {
    targets[`lint_${t}`] = { ...(targets.lint as object), toplevel: t };
    targets[`synth_${t}`] = { ...(targets.synth as object), toplevel: t };
  }
  return {
    name: coreVlnv(r),
    description: `st3d accelerator '${r.name}' (config hash ${r.hash}; generated by st3d ${r.version})`,
    filesets: {
      rtl: vlog(paths("rtl")),
      stubs: vlog(paths("stub")),
      sim: vlog(paths("sim")),
      tb: vlog([o.tb.path]),
      synth_tcl: { files: [o.yosysTcl.path], file_type: "tclSource" },
    },
    parameters: {
      cmd: { datatype: "str", paramtype: "plusarg", description: "host command file (op addr data per line, hex; docs/HOST.md)" },
      out: { datatype: "str", paramtype: "plusarg", description: "file that receives the values read by the host" },
      maxcycles: { datatype: "int", paramtype: "plusarg", description: "fail after this many cycles (default 100000000)" },
    },
    targets,
  };
}

export function renderCore(r: Pick<Resolved, "name" | "version" | "hash">, o: CoreOptions): GeneratedFile {
  const p = coreFile(r.name);
  // FuseSoC requires "CAPI=2:" as the very first line; the st3d header follows as YAML comments.
  const body = YAML.stringify(coreObject(r, o), { lineWidth: 0 });
  return { path: p, kind: "data", content: "CAPI=2:\n" + fileHeader(r, p, "FuseSoC core (CAPI2) of the design", THIS_MODULE, "#") + body };
}

// ------------------------------------------------------------------------------ everything

/**
 * The packaging files of a design.  `files` are the design's files in generation order (before
 * sorting), `tops` its top modules with the accelerator top first.
 */
export function packageFiles(r: Pick<Resolved, "name" | "version" | "hash">, files: GeneratedFile[], tops: string[]): GeneratedFile[] {
  const tb = renderHostTb(r, tops[0]);
  const yosysTcl = renderYosysTcl(r);
  return [...renderFilelists(r, files, tops, tb), tb, yosysTcl, renderCore(r, { tops, files, tb, yosysTcl })];
}
