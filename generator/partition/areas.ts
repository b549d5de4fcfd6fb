/**
 * Area of every top-level instance, for tier balancing and the 3D manifest: the instance's
 * module mapped onto the cell library (generator/physical/synth.ts: Yosys + ABC, cached per
 * module content hash in the shared cache), its area = Σ liberty `area` of its cells + the
 * SRAM model's area of its macros at the library's node (generator/blocks/memory/sramModel.ts).
 * No hand-priced table: a library that is not installed is an error that says how to install it.
 *
 * Synthesis is asynchronous (a pool of Yosys processes with progress lines), so the areas are
 * computed before the design is built (`physicalInputs` in generator/physical/design.ts) and
 * handed to buildThreeD / buildDesign.
 */
import type { Netlist } from "../top/netlist.ts";
import type { ModuleSynth } from "../physical/synth.ts";
import type { CellLibrary } from "../physical/library.ts";

export interface InstanceArea {
  inst: string;
  module: string;
  kind: "logic" | "memory";
  areaUm2: number;
  stdCellUm2: number;
  macroUm2: number;
  cells: number;
  flops: number;
  macros: Record<string, number>;
  /** e.g. "osu018_stdcells liberty + SRAM model 180 nm" */
  source: string;
}

export interface AreaEstimate {
  /** µm² per instance name */
  um2: Map<string, number>;
  detail: InstanceArea[];
  totalUm2: number;
  library: string;
  source: string;
}

/** Areas of the netlist's instances from their mapped modules. */
export function areasFromSynth(nl: Netlist, mods: ReadonlyMap<string, ModuleSynth>, lib: CellLibrary): AreaEstimate {
  const source = `${lib.name} liberty areas (${lib.liberty}) + SRAM model at ${lib.nodeNm} nm for macros`;
  const detail: InstanceArea[] = nl.instances.map((i) => {
    const m = mods.get(i.module);
    if (!m) throw new Error(`internal error: module ${i.module} (instance ${i.name}) was not synthesized`);
    return {
      inst: i.name,
      module: i.module,
      kind: i.kind,
      areaUm2: m.areaUm2,
      stdCellUm2: m.stdCellAreaUm2,
      macroUm2: m.macroAreaUm2,
      cells: m.cellCount,
      flops: m.flops,
      macros: m.macros,
      source,
    };
  });
  return { um2: new Map(detail.map((d) => [d.inst, d.areaUm2])), detail, totalUm2: detail.reduce((a, d) => a + d.areaUm2, 0), library: lib.name, source };
}

/** The flat mapped netlist of the 2D top (partition.txt, 3d/<name>_flat.v). */
export interface FlatNetlist {
  top: string;
  /** cell names as in the flat netlist, e.g. `u_ctrl._12_` */
  cells: { name: string; type: string }[];
  ports: { name: string; direction: string; width: number }[];
  verilog?: string;
}

/** Top-level instance a flattened cell belongs to: `u_x._1_` and `u_x.y.z` -> `u_x`. */
export function topInstanceOf(cellName: string): string {
  const s = cellName.replace(/^\\/, "");
  const dot = s.indexOf(".");
  return dot < 0 ? s : s.slice(0, dot);
}
