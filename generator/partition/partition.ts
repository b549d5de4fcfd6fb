/**
 * Tier assignment of the top-level instances (integration.mode) and the face-to-face nets
 * it implies.  Works on the one top-level Netlist (generator/top/netlist.ts): the 2D top,
 * the tier tops and the 3D assembly are all rendered from it.  docs/3D.md explains the modes.
 */
import type { Resolved } from "../config/resolve.ts";
import { CHIP, netInfo, type NetInfo, type Netlist, type Tier } from "../top/netlist.ts";
import { balanceOf, evaluate, fmBipartition, type FmOptions, type FmResult, type Hypergraph, type Side } from "./fm.ts";

export type Mode = Resolved["integration"]["mode"];
export const TIER_OF_SIDE: readonly Tier[] = ["bottom", "top"];
const sideOf = (t: Tier): Side => (t === "bottom" ? 0 : 1);

/**
 * Logic groups placed on the top die by logic-on-logic (everything else stays on the bottom):
 * the synaptic pool (with its weight memories), the spiking side (ctrl, the dataflow unit with
 * its LIF arrays, attention cores and router, their activation memories) below it.
 */
export const LOGIC_ON_LOGIC_TOP_GROUPS: readonly string[] = ["pool"];

/** Power and ground net names of each die (reports and 3Dblox files only; RTL has no power pins). */
export const POWER_NETS: Record<Tier, { power: string; ground: string }> = {
  bottom: { power: "VDD_BOT", ground: "VSS_BOT" },
  top: { power: "VDD_TOP", ground: "VSS_TOP" },
};

// ---------------------------------------------------------------- hypergraph

export interface NetlistGraph {
  hg: Hypergraph;
  /** vertex index -> instance name; the last vertex is the chip I/O (fixed on the bottom die) */
  names: string[];
  chip: number;
  nets: Map<string, NetInfo>;
  /** hypergraph net index -> net name */
  netNames: string[];
}

/** Instances (weights = areas, µm²) + the chip I/O vertex; nets weighted by width in bits. */
export function netlistGraph(nl: Netlist, areas: ReadonlyMap<string, number>): NetlistGraph {
  const nets = netInfo(nl);
  const names = nl.instances.map((i) => i.name);
  const chip = names.length;
  const idx = new Map(names.map((n, i) => [n, i]));
  const weights = nl.instances.map((i) => {
    const a = areas.get(i.name);
    if (a === undefined || !(a >= 0)) throw new Error(`no area for instance ${i.name}`);
    return a;
  });
  weights.push(0);
  const hgNets: Hypergraph["nets"] = [];
  const netNames: string[] = [];
  for (const n of [...nets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const pins = new Set<number>();
    if (n.driver) pins.add(n.driver.inst === CHIP ? chip : idx.get(n.driver.inst)!);
    for (const s of n.sinks) pins.add(idx.get(s.inst)!);
    if (n.chipOut) pins.add(chip);
    if (pins.size < 2) continue;
    hgNets.push({ pins: [...pins].sort((a, b) => a - b), weight: n.width });
    netNames.push(n.name);
  }
  return { hg: { weights, nets: hgNets, fixed: new Map([[chip, 0 as Side]]) }, names: [...names, CHIP], chip, nets, netNames };
}

/**
 * The logic instance a memory belongs with: among the logic instances that read its outputs,
 * the one sharing the most bits with it (sum of the widths of the nets they share); ties go
 * to the earlier instance.  A memory nobody reads goes with its biggest-sharing neighbour.
 */
export function mainConsumer(nl: Netlist, memInst: string, nets = netInfo(nl)): string | null {
  const kind = new Map(nl.instances.map((i) => [i.name, i.kind]));
  const order = new Map(nl.instances.map((i, k) => [i.name, k]));
  const shared = new Map<string, number>();
  const readers = new Set<string>();
  for (const n of nets.values()) {
    const touches = n.driver?.inst === memInst || n.sinks.some((s) => s.inst === memInst);
    if (!touches) continue;
    const others = new Set([...(n.driver && n.driver.inst !== CHIP ? [n.driver.inst] : []), ...n.sinks.map((s) => s.inst)].filter((x) => x !== memInst && kind.get(x) === "logic"));
    for (const o of others) shared.set(o, (shared.get(o) ?? 0) + n.width);
    if (n.driver?.inst === memInst) for (const s of n.sinks) if (kind.get(s.inst) === "logic") readers.add(s.inst);
  }
  const cands = [...(readers.size ? readers : shared.keys())];
  if (!cands.length) return null;
  cands.sort((a, b) => (shared.get(b) ?? 0) - (shared.get(a) ?? 0) || order.get(a)! - order.get(b)!);
  return cands[0];
}

// ---------------------------------------------------------------- modes

export interface PartitionOptions {
  /** logic groups logic-on-logic puts on the top die (default LOGIC_ON_LOGIC_TOP_GROUPS) */
  logicTopGroups?: readonly string[];
  /** FM settings for auto (balance, cut limit from the config unless given) */
  fm?: Partial<FmOptions>;
}

function memoryOnLogic(nl: Netlist): Map<string, Tier> {
  return new Map(nl.instances.map((i) => [i.name, i.kind === "memory" ? "top" : "bottom"]));
}

/** The logic-on-logic rule: logic by group, each memory with its main consumer. */
function logicOnLogicRule(nl: Netlist, topGroups: readonly string[]): Map<string, Tier> {
  const nets = netInfo(nl);
  const out = new Map<string, Tier>();
  for (const i of nl.instances) if (i.kind === "logic") out.set(i.name, topGroups.includes(i.group) ? "top" : "bottom");
  for (const i of nl.instances) {
    if (i.kind !== "memory") continue;
    const c = mainConsumer(nl, i.name, nets);
    out.set(i.name, c ? out.get(c)! : "bottom");
  }
  return new Map(nl.instances.map((i) => [i.name, out.get(i.name)!]));
}

/**
 * logic-on-logic: the rule above; when it breaks integration.balance, the memories (only)
 * are re-placed by FM with every logic instance pinned where the rule put it, starting from
 * the rule: the balance bound first, then the fewest bonds.
 */
function logicOnLogic(r: Pick<Resolved, "integration">, nl: Netlist, areas: ReadonlyMap<string, number>, topGroups: readonly string[], fm: Partial<FmOptions> = {}): Map<string, Tier> {
  const rule = logicOnLogicRule(nl, topGroups);
  const g = netlistGraph(nl, areas);
  const opts = fmOptions(r, fm);
  const start = toSides(g, rule);
  if (evaluate(g.hg, start, opts).cost.balanceViolation === 0) return rule;
  const fixed = new Map(g.hg.fixed);
  nl.instances.forEach((i, v) => {
    if (i.kind === "logic") fixed.set(v, start[v]);
  });
  const res = fmBipartition({ ...g.hg, fixed }, { ...opts, starts: [start] });
  return toMap(g, res.side);
}

/** Bond budget: footprint × usable fraction / pitch² (whole bonds). */
export function bondBudget(r: Pick<Resolved, "integration">, footprintUm2: number): number {
  const { bondPitchUm, bondUsableFraction } = r.integration;
  return Math.floor((footprintUm2 * bondUsableFraction) / (bondPitchUm * bondPitchUm));
}

function fmOptions(r: Pick<Resolved, "integration">, extra: Partial<FmOptions> = {}): FmOptions {
  return { balance: r.integration.balance, cutLimit: (w0, w1) => bondBudget(r, Math.max(w0, w1)), randomStarts: 24, seed: 1, ...extra };
}

const toSides = (g: NetlistGraph, m: Map<string, Tier>): Side[] => g.names.map((n, v) => (v === g.chip ? 0 : sideOf(m.get(n)!)));
const toMap = (g: NetlistGraph, side: readonly Side[]): Map<string, Tier> => new Map(g.names.slice(0, g.chip).map((n, v) => [n, TIER_OF_SIDE[side[v]]]));

/** FM over the instance hypergraph (auto mode), started from the rule-based modes too. */
export function autoPartition(r: Pick<Resolved, "integration">, nl: Netlist, areas: ReadonlyMap<string, number>, opts: PartitionOptions = {}): { assign: Map<string, Tier>; fm: FmResult } {
  const g = netlistGraph(nl, areas);
  const starts = [toSides(g, memoryOnLogic(nl)), toSides(g, logicOnLogic(r, nl, areas, opts.logicTopGroups ?? LOGIC_ON_LOGIC_TOP_GROUPS, opts.fm))];
  const fm = fmBipartition(g.hg, fmOptions(r, { starts, ...opts.fm }));
  return { assign: toMap(g, fm.side), fm };
}

/**
 * Tier of every top-level instance for `r.integration.mode`:
 *  - "2d": everything on the bottom die;
 *  - "memory-on-logic": every memory on the top die, all logic on the bottom;
 *  - "logic-on-logic": logic of the LOGIC_ON_LOGIC_TOP_GROUPS (the synaptic pool) on top, the rest
 *    (ctrl, the dataflow unit) on the bottom; each memory with its main consumer (mainConsumer);
 *    if that breaks integration.balance, memories are re-placed by FM with the logic pinned;
 *  - "auto": FM min-cut, nets weighted by width, under integration.balance and the bond budget.
 * Chip I/O is always on the bottom die.
 */
export function tierPartition(r: Resolved, netlist: Netlist, areas: ReadonlyMap<string, number>, opts: PartitionOptions = {}): Map<string, Tier> {
  switch (r.integration.mode) {
    case "2d":
      return new Map(netlist.instances.map((i) => [i.name, "bottom" as Tier]));
    case "memory-on-logic":
      return memoryOnLogic(netlist);
    case "logic-on-logic":
      return logicOnLogic(r, netlist, areas, opts.logicTopGroups ?? LOGIC_ON_LOGIC_TOP_GROUPS, opts.fm);
    case "auto":
      return autoPartition(r, netlist, areas, opts).assign;
  }
}

/** Assignment of every rule-based mode, for comparisons (auto included). */
export function allModes(r: Resolved, nl: Netlist, areas: ReadonlyMap<string, number>, opts: PartitionOptions = {}): Record<Mode, Map<string, Tier>> {
  const at = (mode: Mode) => tierPartition({ ...r, integration: { ...r.integration, mode } }, nl, areas, opts);
  return { "2d": at("2d"), "memory-on-logic": at("memory-on-logic"), "logic-on-logic": at("logic-on-logic"), auto: at("auto") };
}

// ---------------------------------------------------------------- results

export interface PartitionStats {
  /** total F2F width = bonds */
  cut: number;
  areaUm2: Record<Tier, number>;
  /** |A_top - A_bot| / (A_top + A_bot) */
  balance: number;
  balanceOk: boolean;
  footprintUm2: number;
  bondBudget: number;
  bondMargin: number;
  instances: Record<Tier, string[]>;
}

export function partitionStats(r: Pick<Resolved, "integration">, nl: Netlist, assign: ReadonlyMap<string, Tier>, areas: ReadonlyMap<string, number>): PartitionStats {
  const g = netlistGraph(nl, areas);
  const e = evaluate(g.hg, toSides(g, assign as Map<string, Tier>), fmOptions(r));
  const footprintUm2 = Math.max(e.weights[0], e.weights[1]);
  const budget = bondBudget(r, footprintUm2);
  const instances: Record<Tier, string[]> = { bottom: [], top: [] };
  for (const i of nl.instances) instances[assign.get(i.name)!].push(i.name);
  return {
    cut: e.cut,
    areaUm2: { bottom: e.weights[0], top: e.weights[1] },
    balance: balanceOf(e.weights[0], e.weights[1]),
    balanceOk: e.cost.balanceViolation === 0,
    footprintUm2,
    bondBudget: budget,
    bondMargin: budget - e.cut,
    instances,
  };
}

export interface F2fNet {
  /** net name in the netlist */
  net: string;
  /** port name on both tier tops (and wire name in the assembly) */
  port: string;
  width: number;
  /** tier of the driver (a chip input is driven on the bottom die) */
  from: Tier;
  to: Tier;
  /** "inst.port" or "<chip>.port" */
  driver: string;
  /** sinks on the receiving tier ("<chip>.port" for a chip output) */
  sinks: string[];
}

export const f2fPort = (net: string) => `f2f_${net}`;

/**
 * Every net whose driver and sinks are on different tiers, the clock first, then by name.
 * A chip input used on the top die is driven from the bottom die (where chip I/O is);
 * a chip output driven on the top die is received by the bottom die.
 */
export function f2fNets(nl: Netlist, assign: ReadonlyMap<string, Tier>): F2fNet[] {
  const nets = netInfo(nl);
  const tierOf = (inst: string): Tier => {
    if (inst === CHIP) return "bottom";
    const t = assign.get(inst);
    if (!t) throw new Error(`instance ${inst} has no tier`);
    return t;
  };
  const chipNames = new Set(nl.ports.map((p) => p.name));
  const out: F2fNet[] = [];
  for (const n of nets.values()) {
    const from = tierOf(n.driver!.inst);
    const to: Tier = from === "bottom" ? "top" : "bottom";
    const sinks = n.sinks.filter((s) => tierOf(s.inst) === to).map((s) => `${s.inst}.${s.port}`);
    if (n.chipOut && to === "bottom") sinks.push(`${CHIP}.${n.name}`);
    if (!sinks.length) continue;
    const port = f2fPort(n.name);
    if (nets.has(port) || chipNames.has(port)) throw new Error(`netlist ${nl.module}: net ${n.name} crosses tiers but ${port} is already a net name`);
    out.push({ net: n.name, port, width: n.width, from, to, driver: `${n.driver!.inst}.${n.driver!.port}`, sinks });
  }
  const clk = (x: F2fNet) => (x.net === "clk" ? 0 : 1);
  return out.sort((a, b) => clk(a) - clk(b) || (a.net < b.net ? -1 : a.net > b.net ? 1 : 0));
}
