/**
 * Memory-access latency of every buffer → consumer path: from the clock edge at an SRAM macro
 * to its read data at the logic instance that consumes it,
 *   t = clock-to-Q of the memory's SRAM macros (the slowest shape it uses; SRAM model at the
 *       node, generator/blocks/memory/sramModel.ts)
 *     + τ_wire · L        L: centre-to-centre Manhattan distance on the view's floorplan
 *                         (lateral offset across the bond); τ_wire: optimally repeated wire,
 *                         2.5·√(R0·C0·r·c) (Bakoglu & Meindl 1985) with r, c of the LEF routing
 *                         layer and R0, C0 of the library's minimum inverter
 *     + t_bond            across the bond: ln 2 · (R0 · C_bond + R_bond · C0)
 * in ps and in cycles of the clock target.  Paths: every memory instance built of SRAM macros
 * (memories below hardware.macroMinBits are flip-flops inside the logic's timing, reported by
 * OpenSTA, not SRAM buffers) × every logic instance that reads one of its outputs.
 */
import { netInfo, type Netlist } from "../top/netlist.ts";
import { branchOf, type ViewFloorplan } from "./floorplan.ts";
import type { Driver } from "./constants.ts";

export interface WireDelayModel {
  /** ps per µm of optimally repeated wire */
  psPerUm: number;
  /** ps per bond crossing */
  bondPs: number;
  driver: Driver;
  wire: { rOhmPerUm: number; cFfPerUm: number; layer: string; source: string };
  bond: { rOhm: number; cFf: number; source: string };
}

export function wireDelayModel(driver: Driver, wire: WireDelayModel["wire"], bond: WireDelayModel["bond"], coeff: number): WireDelayModel {
  // R0 [Ω] · C0 [fF] · r [Ω/µm] · c [fF/µm] -> s²/µm² (1 Ω·fF = 1e-15 s)
  const sPerUm = coeff * Math.sqrt(driver.rOhm * driver.cInFf * 1e-15 * wire.rOhmPerUm * wire.cFfPerUm * 1e-15);
  const bondS = Math.LN2 * (driver.rOhm * bond.cFf * 1e-15 + bond.rOhm * driver.cInFf * 1e-15);
  return { psPerUm: sPerUm * 1e12, bondPs: bondS * 1e12, driver, wire, bond };
}

export interface MemPath {
  memory: string;
  consumer: string;
  /** the memory's slowest SRAM macro shape */
  macro: string;
  clkToQPs: number;
  lengthUm: number;
  wirePs: number;
  bond: boolean;
  bondPs: number;
  totalPs: number;
  cycles: number;
}

/** Every SRAM buffer → consumer pair of a netlist (same for every view). */
export function memoryPaths(nl: Netlist, macroClkToQNs: ReadonlyMap<string, { macro: string; clkToQNs: number } | null>): { memory: string; consumer: string; macro: string; clkToQNs: number }[] {
  const nets = netInfo(nl);
  const kind = new Map(nl.instances.map((i) => [i.name, i.kind]));
  const out: { memory: string; consumer: string; macro: string; clkToQNs: number }[] = [];
  for (const i of nl.instances) {
    if (i.kind !== "memory") continue;
    const m = macroClkToQNs.get(i.name);
    if (!m) continue;
    const readers = new Set<string>();
    for (const n of nets.values()) if (n.driver?.inst === i.name) for (const s of n.sinks) if (kind.get(s.inst) === "logic") readers.add(s.inst);
    for (const c of [...readers].sort()) out.push({ memory: i.name, consumer: c, macro: m.macro, clkToQNs: m.clkToQNs });
  }
  return out;
}

export function pathLatencies(paths: ReturnType<typeof memoryPaths>, fp: ViewFloorplan, w: WireDelayModel, periodNs: number): MemPath[] {
  return paths.map((p) => {
    const b = branchOf(fp, p.memory, p.consumer);
    const clk = p.clkToQNs * 1000;
    const wire = b.lengthUm * w.psPerUm;
    const bond = b.bond ? w.bondPs : 0;
    const total = clk + wire + bond;
    return { memory: p.memory, consumer: p.consumer, macro: p.macro, clkToQPs: clk, lengthUm: b.lengthUm, wirePs: wire, bond: b.bond, bondPs: bond, totalPs: total, cycles: total / (periodNs * 1000) };
  });
}
