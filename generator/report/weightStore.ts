/**
 * The on-chip weight storage of one report view (issue #17: "buffer size against footprint in
 * each 3D view"): the pool's weight memories, which are the weight banks wp<b> when the
 * weights live on chip (hardware.weightsOnChip true) or the two halves of the global weight
 * buffer wb0 / wb1 when they stream from off-chip.  Every figure comes from what the report
 * already computed for the view: the synthesized / macro areas of the instances (cells /
 * utilization + macros, the floorplan's block areas) and the die each instance sits on.
 * The router's and the biases' memories are not counted (they are on chip in both cases).
 */
import type { Design } from "../design.ts";
import { synPoolBlock, type SynPoolParams } from "../blocks/synPool/synPool.ts";
import type { Tier } from "../top/netlist.ts";
import type { ViewFloorplan } from "./floorplan.ts";

export interface WeightStoreInstance {
  inst: string;
  module: string;
  depth: number;
  width: number;
  bits: number;
  /** an SRAM macro (macro area > 0) or flip-flops (below hardware.macroMinBits: cell area only) */
  impl: "sram" | "flip-flops";
  die: string;
  tier: Tier;
  macroAreaUm2: number;
  cellAreaUm2: number;
  /** the floorplan's area of the instance: cells / utilization + macros */
  areaUm2: number;
}

export interface WeightStore {
  /** banks: every pool weight on chip (wp<b>); buffer: the streamed weights' global buffer halves (wb0, wb1) */
  placement: "banks" | "buffer";
  bits: number;
  macroAreaUm2: number;
  cellAreaUm2: number;
  areaUm2: number;
  /** areaUm2 / the view's footprint */
  footprintShare: number;
  /** the dies holding it (one entry per die that holds at least one instance), bottom first */
  dies: { die: string; tier: Tier; instances: number; bits: number; areaUm2: number; footprintShare: number }[];
  instances: WeightStoreInstance[];
}

/** The pool's weight memories of a design: their instance names and where the weights live. */
export function weightStoreInstances(d: Design): { placement: WeightStore["placement"]; insts: string[] } {
  const pool = d.acc.blocks.find((b) => b.entry.block === synPoolBlock);
  if (!pool) throw new Error(`internal: ${d.acc.top} has no synaptic pool (synPool) instance`);
  const p = pool.params as SynPoolParams;
  const modules = new Set((p.stream ? p.stream.memories : p.memories.filter((m) => /^wp\d+$/.test(m.prefix))).map((m) => m.mem.module));
  const insts = d.acc.netlist.instances.filter((i) => i.kind === "memory" && i.memory && modules.has(i.memory.module)).map((i) => i.name);
  if (insts.length !== modules.size) throw new Error(`internal: ${modules.size} pool weight memories, ${insts.length} instances of them in ${d.acc.top}`);
  return { placement: p.stream ? "buffer" : "banks", insts };
}

const rd = (v: number, d: number) => Number(v.toFixed(d));

/** The weight storage of a view from its floorplan (areas and tiers of the placed instances). */
export function weightStore(d: Design, fp: ViewFloorplan): WeightStore {
  const { placement, insts } = weightStoreInstances(d);
  const dieOf = (t: Tier) => fp.dies.find((x) => x.tier === t)!.name;
  const instances: WeightStoreInstance[] = insts.map((name) => {
    const i = d.acc.netlist.instances.find((x) => x.name === name)!;
    const b = fp.place.get(name);
    if (!b) throw new Error(`internal: ${name} is not in the view's floorplan`);
    const m = i.memory!;
    return {
      inst: name,
      module: m.module,
      depth: m.depth,
      width: m.width,
      bits: m.depth * m.width,
      impl: b.macroAreaUm2 > 0 ? "sram" : "flip-flops",
      die: dieOf(b.tier),
      tier: b.tier,
      macroAreaUm2: rd(b.macroAreaUm2, 1),
      cellAreaUm2: rd(b.cellAreaUm2, 1),
      areaUm2: b.areaUm2,
    };
  });
  const sum = (xs: readonly WeightStoreInstance[], k: "bits" | "macroAreaUm2" | "cellAreaUm2" | "areaUm2") => xs.reduce((a, x) => a + x[k], 0);
  const share = (a: number) => (fp.footprintUm2 > 0 ? rd(a / fp.footprintUm2, 6) : 0);
  const areaUm2 = rd(sum(instances, "areaUm2"), 1);
  return {
    placement,
    bits: sum(instances, "bits"),
    macroAreaUm2: rd(sum(instances, "macroAreaUm2"), 1),
    cellAreaUm2: rd(sum(instances, "cellAreaUm2"), 1),
    areaUm2,
    footprintShare: share(areaUm2),
    dies: fp.dies
      .map((die) => {
        const on = instances.filter((x) => x.tier === die.tier);
        const a = rd(sum(on, "areaUm2"), 1);
        return { die: die.name, tier: die.tier, instances: on.length, bits: sum(on, "bits"), areaUm2: a, footprintShare: share(a) };
      })
      .filter((x) => x.instances > 0),
    instances,
  };
}
