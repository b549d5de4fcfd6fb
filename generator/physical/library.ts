/**
 * The cell library of the physical flow: liberty (+ LEF, + Verilog cell models), its node and
 * supply, the cells st3d uses for fanout buffers and constants, the wire R/C of its LEF, and
 * the SRAM model at its node.  Default: OSU018 (Debian qflow-tech-osu018, installed by
 * scripts/setup.sh); `--liberty FILE --lef FILE [--cell-models FILE] [--node NM]` for others.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ToolMissingError } from "../toolchain/tools.ts";
import { findCells, pinsOf, readLiberty, type LibCell, type Liberty } from "./liberty.ts";
import { nodeFactors, SCALING_NODES, type SramTarget } from "../blocks/memory/sramModel.ts";

export const OSU018_DIR = "/usr/share/qflow/tech/osu018";
export const OSU018 = {
  liberty: path.join(OSU018_DIR, "osu018_stdcells.lib"),
  lef: path.join(OSU018_DIR, "osu018_stdcells.lef"),
  cellModels: path.join(OSU018_DIR, "osu018_stdcells.v"),
};

/** Max fanout after st3d's fanout repair (ABC's `buffer` default, -N 10). */
export const MAX_FANOUT = 10;

/** Default clock target when hardware.clockMHz is not set: 100 MHz at 180 nm, moved to other nodes by the Stillmaker & Baas delay factor. */
export const DEFAULT_CLOCK_MHZ_180NM = 100;

export interface LibraryOptions {
  liberty?: string;
  lef?: string;
  /** Verilog models of the cells (gate-level simulation on Icarus) */
  cellModels?: string;
  /** technology node, nm (default: inferred from the library name) */
  nodeNm?: number;
  /** LEF routing layer for inter-block wires (default metal3 / the third routing layer) */
  wireLayer?: string;
}

export interface WireRc {
  layer: string;
  /** Ω per µm */
  rOhmPerUm: number;
  /** fF per µm */
  cFfPerUm: number;
  source: string;
}

export interface CellLibrary {
  /** what loadLibrary was called with (workers reload the library from it) */
  options: LibraryOptions;
  name: string;
  liberty: string;
  lef?: string;
  cellModels?: string;
  lib: Liberty;
  nodeNm: number;
  nodeSource: string;
  voltage: number;
  /** the buffer of fanout repair and of port aliases */
  buffer: { cell: string; input: string; output: string };
  /** constant drivers: the library's tie cells, else st3d's ST3D_TIEHI/LO (no area, see tieLiberty) */
  tie: { hi: { cell: string; pin: string }; lo: { cell: string; pin: string }; st3d: boolean };
  inverter: LibCell;
  wire?: WireRc;
  sram: SramTarget;
  defaultClockMHz: number;
  /** cache-key material: hashes of the files read */
  hash: string;
}

function inferNode(name: string, file: string): { nodeNm: number; source: string } | null {
  const s = `${name} ${path.basename(file)}`.toLowerCase();
  const rules: [RegExp, number][] = [
    [/osu018|gf180|tsmc18|_018|180nm/, 180],
    [/sky130|130nm|osu130/, 130],
    [/nangate|freepdk45|45nm/, 45],
    [/asap7|7nm/, 7],
    [/65nm/, 65],
    [/90nm/, 90],
  ];
  for (const [re, nm] of rules) if (re.test(s)) return { nodeNm: nm, source: `inferred from the library name '${name}' (${re.source})` };
  return null;
}

/** Per-µm R and C of a LEF routing layer: R = RPERSQ / WIDTH, C = CPERSQDIST·WIDTH + 2·EDGECAPACITANCE. */
export function lefWireRc(lefFile: string, layer?: string): WireRc {
  const text = fs.readFileSync(lefFile, "utf8");
  const layers: { name: string; type: string; width?: number; rpersq?: number; cpersq?: number; edge?: number }[] = [];
  const re = /^\s*LAYER\s+(\S+)\s*$([\s\S]*?)^\s*END\s+\1\s*$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    const body = m[2];
    const num = (k: RegExp) => {
      const x = body.match(k);
      return x ? Number(x[1]) : undefined;
    };
    layers.push({
      name: m[1],
      type: body.match(/TYPE\s+(\S+)/)?.[1] ?? "",
      width: num(/^\s*WIDTH\s+([0-9.eE+-]+)/m),
      rpersq: num(/RESISTANCE\s+RPERSQ\s+([0-9.eE+-]+)/),
      cpersq: num(/CAPACITANCE\s+CPERSQDIST\s+([0-9.eE+-]+)/),
      edge: num(/EDGECAPACITANCE\s+([0-9.eE+-]+)/),
    });
  }
  const routing = layers.filter((l) => l.type === "ROUTING");
  const pick = layer ? routing.find((l) => l.name === layer) : (routing.find((l) => l.name === "metal3") ?? routing[2] ?? routing[routing.length - 1]);
  if (!pick) throw new Error(`${lefFile}: no routing layer ${layer ?? "(metal3 or the third one)"}; layers: ${routing.map((l) => l.name).join(", ")}`);
  if (pick.width === undefined || pick.rpersq === undefined || pick.cpersq === undefined)
    throw new Error(`${lefFile}: layer ${pick.name} lacks WIDTH, RESISTANCE RPERSQ or CAPACITANCE CPERSQDIST; pass --wire-layer with a layer that has them`);
  const cPfPerUm = pick.cpersq * pick.width + 2 * (pick.edge ?? 0);
  return {
    layer: pick.name,
    rOhmPerUm: pick.rpersq / pick.width,
    cFfPerUm: cPfPerUm * 1000,
    source: `${path.basename(lefFile)} LAYER ${pick.name}: RPERSQ ${pick.rpersq} ohm/sq / WIDTH ${pick.width} um; CPERSQDIST ${pick.cpersq} pF/um^2 x WIDTH + 2 x EDGECAPACITANCE ${pick.edge ?? 0} pF/um`,
  };
}

const libCache = new Map<string, CellLibrary>();

/** Resolve and read the cell library (default OSU018). Throws ToolMissingError with the fix when it is not installed. */
export function loadLibrary(opts: LibraryOptions = {}): CellLibrary {
  const liberty = path.resolve(opts.liberty ?? OSU018.liberty);
  const lef = opts.lef ? path.resolve(opts.lef) : opts.liberty ? undefined : OSU018.lef;
  const cellModels = opts.cellModels ? path.resolve(opts.cellModels) : opts.liberty ? undefined : OSU018.cellModels;
  const k = JSON.stringify([liberty, lef, cellModels, opts.nodeNm, opts.wireLayer]);
  const hit = libCache.get(k);
  if (hit) return hit;
  if (!fs.existsSync(liberty)) {
    if (!opts.liberty) throw new ToolMissingError(`the OSU018 cell library (${liberty})`, "run 'npm run setup' (or: sudo apt-get install -y qflow-tech-osu018), or pass --liberty FILE --lef FILE for another library");
    throw new ToolMissingError(`liberty ${liberty}`, "check the --liberty path");
  }
  for (const [f, what] of [
    [lef, "--lef"],
    [cellModels, "--cell-models"],
  ] as const)
    if (f && !fs.existsSync(f)) throw new ToolMissingError(`${what} file ${f}`, `check the ${what} path`);
  const lib = readLiberty(liberty);
  const node = opts.nodeNm !== undefined ? { nodeNm: opts.nodeNm, source: "--node" } : inferNode(lib.name, liberty);
  if (!node) throw new Error(`cannot tell the technology node of liberty '${lib.name}' (${liberty}); pass --node NM (one of ${SCALING_NODES.join(", ")})`);
  if (!SCALING_NODES.includes(node.nodeNm)) throw new Error(`--node ${node.nodeNm}: the SRAM scaling model covers ${SCALING_NODES.join(", ")} nm`);
  const bufs = findCells(lib, "buf").filter((c) => !/clk/i.test(c.name));
  if (!bufs.length) throw new Error(`liberty ${liberty} has no buffer cell (one input, function = the input)`);
  const buf = bufs[Math.floor(bufs.length / 2)];
  const invs = findCells(lib, "inv");
  if (!invs.length) throw new Error(`liberty ${liberty} has no inverter cell`);
  const ties = [...lib.cells.values()].filter((c) => c.kind === "tie" && !c.dontUse);
  const tieOf = (v: "0" | "1") => {
    const c = ties.find((t) => (pinsOf(t, "output")[0].function ?? "").trim() === v);
    return c ? { cell: c.name, pin: pinsOf(c, "output")[0].name } : undefined;
  };
  const hi = tieOf("1");
  const lo = tieOf("0");
  const st3dTie = !hi || !lo;
  const voltage = lib.voltage;
  const f = nodeFactors(node.nodeNm, voltage);
  const wire = lef ? lefWireRc(lef, opts.wireLayer) : undefined;
  const hashFiles = [lef, cellModels].filter(Boolean).map((x) => crypto.createHash("sha256").update(fs.readFileSync(x!)).digest("hex").slice(0, 16));
  const out: CellLibrary = {
    options: { ...opts },
    name: lib.name,
    liberty,
    lef,
    cellModels,
    lib,
    nodeNm: node.nodeNm,
    nodeSource: node.source,
    voltage,
    buffer: { cell: buf.name, input: pinsOf(buf, "input")[0].name, output: pinsOf(buf, "output")[0].name },
    tie: { hi: st3dTie ? { cell: "ST3D_TIEHI", pin: "Y" } : hi!, lo: st3dTie ? { cell: "ST3D_TIELO", pin: "Y" } : lo!, st3d: st3dTie },
    inverter: invs[0],
    wire,
    sram: { nodeNm: node.nodeNm, voltage, inverterLeakageNw: invs[0].leakageNw, inverterCell: invs[0].name },
    defaultClockMHz: Math.round((DEFAULT_CLOCK_MHZ_180NM * nodeFactors(180, 1.8).delay) / f.delay),
    hash: `${lib.hash}:${hashFiles.join(",")}:${node.nodeNm}:${opts.wireLayer ?? ""}`,
  };
  libCache.set(k, out);
  return out;
}

/**
 * Liberty of st3d's tie cells, for libraries without any (OSU018): a constant is the rail
 * itself, so the cells have no area, no power and no timing arc (OpenSTA sees an undriven,
 * unconstrained pin instead of a logic constant; OpenSTA 2.0.17 crashes in report_power on
 * some constant-driven gates).  The Verilog model is tieVerilog().
 */
export function tieLiberty(voltage: number): string {
  const th = ["rise", "fall"].flatMap((d) => [`  slew_lower_threshold_pct_${d} : 20;`, `  slew_upper_threshold_pct_${d} : 80;`, `  input_threshold_pct_${d} : 50;`, `  output_threshold_pct_${d} : 50;`]);
  return [
    "/* st3d tie cells: constants tied to the rails (no area, no power, no timing arcs). */",
    "library (st3d_tie) {",
    "  delay_model : table_lookup;",
    '  time_unit : "1ns";',
    '  voltage_unit : "1V";',
    '  current_unit : "1uA";',
    '  leakage_power_unit : "1nW";',
    "  capacitive_load_unit (1,pf);",
    "  nom_process : 1;",
    "  nom_temperature : 25;",
    `  nom_voltage : ${voltage};`,
    ...th,
    "  cell (ST3D_TIEHI) { area : 0; dont_use : true; pin (Y) { direction : output; } }",
    "  cell (ST3D_TIELO) { area : 0; dont_use : true; pin (Y) { direction : output; } }",
    "}",
    "",
  ].join("\n");
}

export function tieVerilog(): string {
  return [
    "// st3d tie cells (libraries without tie cells): constants tied to the rails.",
    "module ST3D_TIEHI (output wire Y);",
    "  assign Y = 1'b1;",
    "endmodule",
    "module ST3D_TIELO (output wire Y);",
    "  assign Y = 1'b0;",
    "endmodule",
    "",
  ].join("\n");
}
