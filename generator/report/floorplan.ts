/**
 * Floorplans of the report: every die of a view (the 2D die; the bottom and top tiers of a 3D
 * view), its top-level instances as rectangles, deterministic.
 *
 *  - An instance's rectangle has its synthesized area at the stated utilization:
 *    standard cells / UTILIZATION + macros (macros are placed at their own area); a die is
 *    the square of the larger tier's area (footprint = max tier area; both tiers of a 3D view
 *    share it).  On the smaller tier the white space is spread over the instances: each gets
 *    a slot of its share of the die and sits in the middle of it at its own size.
 *  - Placement is top-down min-cut slicing with terminal propagation (Breuer, "Min-cut
 *    placement", J. Design Automation & Fault-Tolerant Computing 1(4), 1977; Dunlop &
 *    Kernighan, IEEE TCAD 4(1), 1985): a region is cut across its longer side, its instances
 *    bisected by Fiduccia–Mattheyses (generator/partition/fm.ts) over the nets between them,
 *    nets weighted by their width in bits; a net that also reaches an instance outside the
 *    region (or on the other tier, or the chip I/O) pulls towards the half nearer that pin (a
 *    fixed terminal vertex); the cut sits where the two halves' areas put it.
 *  - Every memory is also tied to its main consumer (the logic instance reading its data,
 *    generator/partition/partition.ts mainConsumer) by a net as wide as all its ports, so a
 *    buffer sits by (2D) or over (3D, memory-on-logic) the logic that reads it, not by ctrl
 *    that writes it at load time.
 *  - 3D: the bottom die is placed, then the top die with the bottom's instances as fixed
 *    terminals, then the bottom again with the top fixed, then the top again (two rounds).
 *  - The chip I/O (host port) is on the bottom die, at the middle of its left edge.
 * Distances (for timing, energy, wirelength, latency): centre to centre, Manhattan; across the
 * bond the lateral offset of the two centres plus one hybrid bond.
 */
import type { Tier } from "../top/netlist.ts";
import { CHIP, netInfo, type Netlist } from "../top/netlist.ts";
import { fmBipartition, type Hypergraph, type Side } from "../partition/fm.ts";
import { mainConsumer } from "../partition/partition.ts";

export interface Block {
  inst: string;
  kind: "logic" | "memory";
  tier: Tier;
  /** standard-cell and macro area from synthesis, µm² */
  cellAreaUm2: number;
  macroAreaUm2: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PlacedBlock extends Block, Rect {
  /** footprint of the block: cells / utilization + macros */
  areaUm2: number;
  slot: Rect;
}

export interface Die {
  /** "2d", or the tier */
  name: string;
  tier: Tier;
  widthUm: number;
  heightUm: number;
  /** sum of the block areas on this die (cells / utilization + macros) */
  usedUm2: number;
  blocks: PlacedBlock[];
}

export interface ViewFloorplan {
  /** dies: one for 2D, bottom then top for 3D */
  dies: Die[];
  /** die area = max tier area, µm² */
  footprintUm2: number;
  utilization: number;
  io: { x: number; y: number; tier: Tier };
  place: Map<string, PlacedBlock>;
}

const centre = (r: Rect) => ({ x: r.x + r.w / 2, y: r.y + r.h / 2 });
const round = (v: number) => Math.round(v * 1000) / 1000;

/** Nets of the floorplan: instance-level hyperedges (chip I/O = CHIP), weight = bits; plus memory → main consumer ties. */
export function floorplanNets(nl: Netlist): { pins: string[]; weight: number; name: string }[] {
  const nets = netInfo(nl);
  const out: { pins: string[]; weight: number; name: string }[] = [];
  for (const n of [...nets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const pins = new Set<string>();
    if (n.driver) pins.add(n.driver.inst);
    for (const s of n.sinks) pins.add(s.inst);
    if (n.chipOut) pins.add(CHIP);
    if (pins.size >= 2) out.push({ pins: [...pins].sort(), weight: n.width, name: n.name });
  }
  for (const i of nl.instances) {
    if (i.kind !== "memory") continue;
    const c = mainConsumer(nl, i.name, nets);
    if (!c) continue;
    const w = i.ports.reduce((a, p) => a + p.width, 0);
    out.push({ pins: [i.name, c].sort(), weight: w, name: `<${i.name} over ${c}>` });
  }
  return out;
}

interface Region {
  insts: string[];
  rect: Rect;
}

/**
 * Floorplan one view.  `blocks`: every top-level instance with its tier (all "bottom" for 2D).
 */
export function floorplanView(nl: Netlist, blocks: readonly Block[], opts: { utilization: number; threeD: boolean }): ViewFloorplan {
  const u = opts.utilization;
  const areaOf = (b: Block) => b.cellAreaUm2 / u + b.macroAreaUm2;
  const byName = new Map(blocks.map((b) => [b.inst, b]));
  for (const i of nl.instances) if (!byName.has(i.name)) throw new Error(`floorplan: no synthesized area for instance ${i.name}`);
  const tiers: Tier[] = opts.threeD ? ["bottom", "top"] : ["bottom"];
  const used = (t: Tier) => blocks.filter((b) => b.tier === t).reduce((a, b) => a + areaOf(b), 0);
  const footprint = Math.max(...tiers.map(used), 1e-6);
  const side = Math.sqrt(footprint);
  const io = { x: 0, y: side / 2, tier: "bottom" as Tier };
  const nets = floorplanNets(nl);
  // current position (centre) of every instance, by tier; unknown until its die is placed
  const pos = new Map<string, { x: number; y: number; tier: Tier }>();
  const slots = new Map<string, Rect>();

  const placeDie = (t: Tier) => {
    const mine = nl.instances.filter((i) => byName.get(i.name)!.tier === t).map((i) => i.name);
    const scale = footprint / Math.max(used(t), 1e-9); // white space spread over the slots
    const slotArea = (i: string) => areaOf(byName.get(i)!) * scale;
    let regions: Region[] = [{ insts: mine, rect: { x: 0, y: 0, w: side, h: side } }];
    const regionOf = new Map<string, Rect>(mine.map((i) => [i, regions[0].rect]));
    const here = (i: string) => {
      if (i === CHIP) return io;
      const b = byName.get(i)!;
      if (b.tier === t) {
        const c = centre(regionOf.get(i)!);
        return { ...c, tier: t };
      }
      return pos.get(i) ?? null;
    };
    while (regions.some((r) => r.insts.length > 1)) {
      const next: Region[] = [];
      const cuts: { reg: Region; a: Region; b: Region }[] = [];
      for (const reg of regions) {
        if (reg.insts.length <= 1) {
          next.push(reg);
          continue;
        }
        const vertical = reg.rect.w >= reg.rect.h; // cut across the longer side
        const c = centre(reg.rect);
        const idx = new Map(reg.insts.map((n, k) => [n, k]));
        const T0 = reg.insts.length;
        const T1 = T0 + 1;
        const hg: Hypergraph = { weights: [...reg.insts.map(slotArea), 0, 0], nets: [], fixed: new Map<number, Side>([[T0, 0], [T1, 1]]) };
        for (const n of nets) {
          const pins = new Set<number>();
          for (const p of n.pins) {
            const k = idx.get(p);
            if (k !== undefined) {
              pins.add(k);
              continue;
            }
            const q = here(p);
            if (!q) continue;
            const coord = vertical ? q.x : q.y;
            const mid = vertical ? c.x : c.y;
            if (coord < mid - 1e-9) pins.add(T0);
            else if (coord > mid + 1e-9) pins.add(T1);
          }
          const inside = [...pins].filter((k) => k < T0);
          if (!inside.length || pins.size < 2) continue;
          hg.nets.push({ pins: [...pins].sort((a, b) => a - b), weight: n.weight });
        }
        const res = fmBipartition(hg, { balance: 0.3, randomStarts: 8, seed: 1 });
        let s0 = reg.insts.filter((_, k) => res.side[k] === 0);
        let s1 = reg.insts.filter((_, k) => res.side[k] === 1);
        if (!s0.length || !s1.length) {
          // FM may leave one side empty when the terminals pull everything one way: split by area in netlist order
          const all = [...s0, ...s1];
          const half = all.reduce((a, i) => a + slotArea(i), 0) / 2;
          let acc = 0;
          s0 = [];
          s1 = [];
          for (const i of all) {
            (acc < half || !s0.length ? s0 : s1).push(i);
            acc += slotArea(i);
          }
          if (!s1.length) s1.push(s0.pop()!);
        }
        const a0 = s0.reduce((a, i) => a + slotArea(i), 0);
        const a1 = s1.reduce((a, i) => a + slotArea(i), 0);
        const f = a0 + a1 > 0 ? a0 / (a0 + a1) : 0.5;
        const r = reg.rect;
        const ra: Rect = vertical ? { x: r.x, y: r.y, w: r.w * f, h: r.h } : { x: r.x, y: r.y, w: r.w, h: r.h * f };
        const rb: Rect = vertical ? { x: r.x + r.w * f, y: r.y, w: r.w * (1 - f), h: r.h } : { x: r.x, y: r.y + r.h * f, w: r.w, h: r.h * (1 - f) };
        cuts.push({ reg, a: { insts: s0, rect: ra }, b: { insts: s1, rect: rb } });
      }
      for (const { a, b } of cuts) {
        next.push(a, b);
        for (const i of a.insts) regionOf.set(i, a.rect);
        for (const i of b.insts) regionOf.set(i, b.rect);
      }
      regions = next;
    }
    for (const reg of regions)
      for (const i of reg.insts) {
        slots.set(i, reg.rect);
        pos.set(i, { ...centre(reg.rect), tier: t });
      }
  };

  if (opts.threeD) {
    // bottom alone, top over the bottom, bottom under the top, top again
    placeDie("bottom");
    placeDie("top");
    placeDie("bottom");
    placeDie("top");
  } else placeDie("bottom");

  const place = new Map<string, PlacedBlock>();
  const dies: Die[] = tiers.map((t) => {
    const list: PlacedBlock[] = [];
    for (const i of nl.instances) {
      const b = byName.get(i.name)!;
      if (b.tier !== t) continue;
      const s = slots.get(i.name)!;
      const a = areaOf(b);
      const k = s.w * s.h > 0 ? Math.sqrt(Math.min(1, a / (s.w * s.h))) : 0;
      const w = s.w * k;
      const h = s.h * k;
      const pb: PlacedBlock = { ...b, areaUm2: round(a), x: round(s.x + (s.w - w) / 2), y: round(s.y + (s.h - h) / 2), w: round(w), h: round(h), slot: { x: round(s.x), y: round(s.y), w: round(s.w), h: round(s.h) } };
      list.push(pb);
      place.set(i.name, pb);
    }
    return { name: opts.threeD ? t : "2d", tier: t, widthUm: round(side), heightUm: round(side), usedUm2: round(used(t)), blocks: list };
  });
  return { dies, footprintUm2: round(side * side), utilization: u, io: { x: 0, y: round(side / 2), tier: "bottom" }, place };
}

export interface Branch {
  lengthUm: number;
  bond: boolean;
}

/** Centre-to-centre Manhattan branch between two placed instances (lateral offset across the bond). */
export function branchOf(fp: ViewFloorplan, a: string, b: string): Branch {
  const pa = a === CHIP ? { ...fp.io, w: 0, h: 0 } : fp.place.get(a);
  const pb = b === CHIP ? { ...fp.io, w: 0, h: 0 } : fp.place.get(b);
  if (!pa || !pb) throw new Error(`floorplan: no placement for ${pa ? b : a}`);
  const ca = centre(pa);
  const cb = centre(pb);
  return { lengthUm: Math.abs(ca.x - cb.x) + Math.abs(ca.y - cb.y), bond: pa.tier !== pb.tier };
}

/** The floorplan as the DistanceSource of the timing and power flow (generator/physical/floorplan.ts). */
export function distanceSource(fp: ViewFloorplan) {
  return {
    branch: (a: string, b: string) => branchOf(fp, a, b),
    describe: () => `st3d report floorplan: min-cut slicing with terminal propagation, utilization ${fp.utilization} for standard cells; centre-to-centre Manhattan length, lateral offset + one hybrid bond across the tiers`,
  };
}
