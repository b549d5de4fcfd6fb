/**
 * Energy per inference from the activity of a real run (generator/physical/activity.ts):
 *
 *   E = E_sram + E_logic + E_wires + E_leak + E_dram
 *   E_sram  = Σ_macro (reads × E_read + writes × E_write)            SRAM model at the node
 *   E_logic = Σ_block N·T·[P0_b + a_b·(P1_b − P0_b)] + N·Σ C_clk·V²   OpenSTA report_power
 *             (P0, P1: the block's internal + switching power at global activity 0 and 1;
 *             OpenSTA's power is linear in the activity, so this is its value at a_b; a_b = the
 *             measured toggle rate of the block's output nets, toggles / (bits × N), applied to
 *             every net of the block; C_clk: the clock-pin capacitances of its cells, charged
 *             once a cycle by the ideal clock, which OpenSTA leaves out of switching power)
 *   E_wires = Σ_net toggles × ½·C_wire·V²                             ./parasitics.ts
 *   E_leak  = (Σ cell leakage from OpenSTA + Σ macro leakage) × N / f_eff
 *   E_dram  = bytes read from off-chip / 8 × 1.3 nJ (weights off chip only; Horowitz, ISSCC 2014:
 *             1.3-2.6 nJ per 64-bit DRAM access at 45 nm, the high end reported as `dram.pjHigh`)
 * with N the cycles the accelerator was busy, T the STA clock period (E_logic does not depend
 * on it: P·T is energy per cycle).  Average power = E / (N / f_eff).
 */
import type { CellLibrary } from "./library.ts";
import type { Activity } from "./activity.ts";
import type { BlockPower, StaResult } from "./sta.ts";
import type { WireNet } from "./parasitics.ts";
import { macroModels, type ModuleSynth } from "./synth.ts";
import type { Netlist } from "../top/netlist.ts";
import { DRAM_ENERGY_64, dramEnergyPj } from "../report/constants.ts";

export interface BlockEnergy {
  block: string;
  /** measured toggle rate of the block's output nets */
  activity: number;
  activeCycles: number;
  logicPj: number;
  clockPinsPj: number;
  sramPj: number;
  leakagePj: number;
  totalPj: number;
}

export interface EnergyReport {
  cycles: number;
  fEffMHz: number;
  seconds: number;
  /** every term in pJ */
  breakdownPj: { sram: number; logic: number; wires: number; leakage: number; dram: number };
  /** off-chip weight reads (weights off chip; zeros otherwise): bytes, 64-bit accesses, energy at both ends of the cited range */
  dram: { bytes: number; accesses: number; pj: number; pjHigh: number; pjPerAccess: number; source: string };
  totalPj: number;
  energyNj: number;
  averagePowerMw: number;
  synapticOps: number;
  pjPerSynapticOp: number | null;
  sram: { reads: number; writes: number; readPj: number; writePj: number; leakageNw: number; byMacro: { macro: string; count: number; reads: number; writes: number; energyPj: number }[] };
  blocks: BlockEnergy[];
  wires: { nets: number; toggles: number; energyPj: number };
  method: string[];
}

const sumBy = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);

/** Clock-pin capacitance (pF) of a module's cells (liberty clock pins, macro clk). */
export function clockPinCapPf(lib: CellLibrary, m: ModuleSynth): number {
  let c = 0;
  const macros = macroModels(lib, m.cells);
  for (const [t, n] of Object.entries(m.cells)) {
    const lc = lib.lib.cells.get(t);
    if (lc) c += n * lc.pins.filter((p) => p.clock && p.direction === "input").reduce((a, p) => a + p.capPf, 0);
    else if (macros.has(t)) c += n * macros.get(t)!.clkCapPf;
  }
  return c;
}

export interface PowerInputs {
  lib: CellLibrary;
  nl: Netlist;
  mods: ReadonlyMap<string, ModuleSynth>;
  sta: StaResult;
  activity: Activity;
  wires: readonly WireNet[];
  synapticOps: number;
  /** bytes read from off-chip memory in the run (run.json offchip.bytesRead; 0 or absent: weights on chip) */
  offchipBytes?: number;
}

export function energyPerInference(p: PowerInputs): EnergyReport {
  const { lib, nl, mods, sta, activity } = p;
  const N = activity.cycles;
  if (!(N > 0)) throw new Error("the run recorded no busy cycles: run.json has no activity of an inference (rerun st3d run with this version)");
  const T = sta.periodNs * 1e-9;
  const V = lib.voltage;
  const fEff = sta.fEffMHz * 1e6;
  const seconds = N / fEff;
  const p0 = new Map<string, BlockPower>(sta.power0.map((b) => [b.block, b]));
  const p1 = new Map<string, BlockPower>(sta.power1.map((b) => [b.block, b]));
  // measured activity per driving instance
  const bits = new Map<string, number>();
  const toggles = new Map<string, number>();
  for (const n of Object.values(activity.nets)) {
    bits.set(n.driver, (bits.get(n.driver) ?? 0) + n.width);
    toggles.set(n.driver, (toggles.get(n.driver) ?? 0) + n.toggles);
  }
  // SRAM macros: counts per macro instance, energy per access from the model
  const byMacro = new Map<string, { macro: string; count: number; reads: number; writes: number; energyPj: number }>();
  let sramPj = 0;
  let reads = 0;
  let writes = 0;
  const sramByBlock = new Map<string, number>();
  const models = new Map<string, ReturnType<typeof macroModels> extends Map<string, infer V> ? V : never>();
  for (const m of mods.values()) for (const [t, s] of macroModels(lib, m.cells)) models.set(t, s);
  for (const a of activity.macros) {
    const s = models.get(a.macro);
    if (!s) throw new Error(`run.json counts accesses of macro ${a.macro}, which the synthesized design does not contain (was the run made with the same config?)`);
    const e = a.reads * s.readPj + a.writes * s.writePj;
    sramPj += e;
    reads += a.reads;
    writes += a.writes;
    const x = byMacro.get(a.macro) ?? { macro: a.macro, count: 0, reads: 0, writes: 0, energyPj: 0 };
    x.count++;
    x.reads += a.reads;
    x.writes += a.writes;
    x.energyPj += e;
    byMacro.set(a.macro, x);
    const parts = a.path.split(".");
    const di = parts.indexOf("dut");
    let inst = parts[di + 1];
    if (/^u_tier_/.test(inst)) inst = parts[di + 2];
    sramByBlock.set(inst, (sramByBlock.get(inst) ?? 0) + e);
  }
  let macroLeakNw = 0;
  for (const i of nl.instances) {
    const m = mods.get(i.module)!;
    for (const [t, s] of macroModels(lib, m.cells)) macroLeakNw += s.leakageNw * m.cells[t];
  }
  const blocks: BlockEnergy[] = [];
  let logicPj = 0;
  let leakW = 0;
  for (const i of nl.instances) {
    const a = bits.get(i.name) ? toggles.get(i.name)! / (bits.get(i.name)! * N) : 0;
    // OpenSTA lists no power for an instance that holds only macros (their liberties carry no
    // internal power: the SRAM energy is counted from the run's accesses above) and tie cells
    const im = mods.get(i.module)!;
    const macroTypes = new Set(macroModels(lib, im.cells).keys());
    const noLogic = Object.keys(im.cells).every((t) => macroTypes.has(t) || t === lib.tie.hi.cell || t === lib.tie.lo.cell);
    const none: BlockPower = { block: i.name, internal: 0, switching: 0, leakage: 0, cells: 0 };
    const b0 = p0.get(i.name) ?? (noLogic ? none : undefined);
    const b1 = p1.get(i.name) ?? (noLogic ? none : undefined);
    if (!b0 || !b1) throw new Error(`OpenSTA reported no power for instance ${i.name} of ${sta.top}`);
    const dyn0 = b0.internal + b0.switching;
    const dyn1 = b1.internal + b1.switching;
    const lgc = N * T * (dyn0 + a * (dyn1 - dyn0)) * 1e12;
    const clk = N * clockPinCapPf(lib, mods.get(i.module)!) * 1e-12 * V * V * 1e12;
    const macroLeak = sumBy([...macroModels(lib, mods.get(i.module)!.cells)], ([t, s]) => s.leakageNw * mods.get(i.module)!.cells[t]) * 1e-9;
    const leak = (b0.leakage + macroLeak) * seconds * 1e12;
    leakW += b0.leakage;
    logicPj += lgc + clk;
    const sram = sramByBlock.get(i.name) ?? 0;
    blocks.push({ block: i.name, activity: a, activeCycles: activity.activeCycles[i.name] ?? 0, logicPj: lgc, clockPinsPj: clk, sramPj: sram, leakagePj: leak, totalPj: lgc + clk + sram + leak });
  }
  // cells of the tops (alias buffers, ties) belong to no instance: charged with the wires' blocks? no — listed as <top>
  const top0 = p0.get("<top>");
  const top1 = p1.get("<top>");
  if (top0 && top1) {
    const lgc = N * T * (top0.internal + top0.switching) * 1e12;
    logicPj += lgc;
    leakW += top0.leakage;
    void top1;
  }
  let wireToggles = 0;
  let wiresPj = 0;
  const capOf = new Map(p.wires.map((w) => [w.net, w.capFfPerBit]));
  for (const [name, n] of Object.entries(activity.nets)) {
    const c = capOf.get(name);
    if (c === undefined) continue;
    wireToggles += n.toggles;
    wiresPj += n.toggles * 0.5 * c * 1e-15 * V * V * 1e12;
  }
  const leakagePj = (leakW + macroLeakNw * 1e-9) * seconds * 1e12;
  const dramBytes = p.offchipBytes ?? 0;
  const dram = dramEnergyPj(dramBytes);
  const breakdownPj = { sram: sramPj, logic: logicPj, wires: wiresPj, leakage: leakagePj, dram: dram.pj };
  const totalPj = sramPj + logicPj + wiresPj + leakagePj + dram.pj;
  const someModel = [...models.values()][0];
  return {
    cycles: N,
    fEffMHz: sta.fEffMHz,
    seconds,
    breakdownPj,
    totalPj,
    energyNj: totalPj / 1000,
    averagePowerMw: (totalPj * 1e-12) / seconds / 1e-3,
    synapticOps: p.synapticOps,
    pjPerSynapticOp: p.synapticOps > 0 ? totalPj / p.synapticOps : null,
    sram: { reads, writes, readPj: someModel?.readPj ?? 0, writePj: someModel?.writePj ?? 0, leakageNw: macroLeakNw, byMacro: [...byMacro.values()].sort((a, b) => (a.macro < b.macro ? -1 : 1)) },
    blocks,
    wires: { nets: p.wires.length, toggles: wireToggles, energyPj: wiresPj },
    dram: { bytes: dramBytes, accesses: dram.accesses, pj: dram.pj, pjHigh: dram.pjHigh, pjPerAccess: DRAM_ENERGY_64.value, source: DRAM_ENERGY_64.source },
    method: [
      "sram: simulated reads/writes of every macro instance x the SRAM model's energy per access at the library node",
      "logic: OpenSTA internal + switching power per block at global activity 0 and 1 (no wire parasitics), interpolated at the block's measured output toggle rate, x cycles x period; plus clock-pin capacitance x V^2 per cycle",
      "wires: toggles of every inter-instance net x 1/2 x C_wire x V^2 (C_wire from the floorplan distances and the LEF layer's per-um capacitance, bond C across tiers)",
      "leakage: OpenSTA cell leakage + SRAM model leakage, x cycles / f_eff",
      "dram: bytes of weights read from off-chip (weights off chip only) / 8 x 1.3 nJ per 64-bit access (Horowitz, ISSCC 2014, 45 nm: 1.3-2.6 nJ; the high end in dram.pjHigh)",
    ],
  };
}
