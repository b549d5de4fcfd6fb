/**
 * Wirelength of a view, per die and in total:
 *   - inside a block (a top-level instance): nets × Donath's average length L̄(N, p) × gate
 *     pitch, with p the Rent exponent measured on the block's own mapped netlist (./rent.ts),
 *     N its cells, pitch = √(standard-cell area / utilization / N).  Blocks are never split
 *     across the tiers (tiers are assigned per top-level instance), so this term is the same in
 *     every view;
 *   - between blocks: every net between top-level instances (and to the chip I/O) as a star
 *     from its driver to each sink block, centre-to-centre Manhattan on the view's floorplan
 *     (./floorplan.ts), times its width in bits; across the bond, the lateral offset of the two
 *     centres (the bond itself is counted in `bonds`, not as length).  A net's length is
 *     charged to its driver's die.
 */
import { CHIP, netInfo, type Netlist } from "../top/netlist.ts";
import { branchOf, type ViewFloorplan } from "./floorplan.ts";
import { donathLength, type RentFit } from "./rent.ts";

export interface BlockWire {
  inst: string;
  module: string;
  cells: number;
  nets: number;
  rentP: number;
  /** where p comes from: "measured" on this module, or the cell-weighted mean of the measured modules */
  rentSource: "measured" | "design mean";
  pitchUm: number;
  donathPitches: number;
  intraUm: number;
}

export interface InterNet {
  net: string;
  width: number;
  driver: string;
  sinks: string[];
  /** Σ of the branch lengths, one bit, µm */
  lengthUm: number;
  bond: boolean;
}

export interface DieWire {
  die: string;
  intraUm: number;
  interUm: number;
  totalUm: number;
}

export interface ViewWire {
  intraUm: number;
  interUm: number;
  totalUm: number;
  dies: DieWire[];
  nets: InterNet[];
}

export interface ModuleRent {
  module: string;
  fit: RentFit;
}

/** Rent exponent per module: measured where the fit has points, else the cell-weighted mean of the measured ones. */
export function rentOf(rents: ReadonlyMap<string, RentFit>): { p: (module: string) => { p: number; source: BlockWire["rentSource"] }; meanP: number } {
  let w = 0;
  let s = 0;
  for (const f of rents.values())
    if (f.measured) {
      w += f.cells;
      s += f.cells * f.p;
    }
  const meanP = w > 0 ? s / w : 0.6;
  return {
    meanP,
    p: (m) => {
      const f = rents.get(m);
      return f && f.measured ? { p: f.p, source: "measured" } : { p: meanP, source: "design mean" };
    },
  };
}

export function blockWires(nl: Netlist, cellAreaUm2: ReadonlyMap<string, number>, rents: ReadonlyMap<string, RentFit>, utilization: number): BlockWire[] {
  const rp = rentOf(rents);
  return nl.instances.map((i) => {
    const f = rents.get(i.module);
    const cells = f?.cells ?? 0;
    const nets = f?.nets ?? 0;
    const { p, source } = rp.p(i.module);
    const area = cellAreaUm2.get(i.name) ?? 0;
    const pitch = cells > 0 ? Math.sqrt(area / utilization / cells) : 0;
    const L = donathLength(cells, p);
    return { inst: i.name, module: i.module, cells, nets, rentP: p, rentSource: source, pitchUm: pitch, donathPitches: L, intraUm: nets * L * pitch };
  });
}

/** Inter-block nets of the netlist on a floorplan (star from the driver). */
export function interNets(nl: Netlist, fp: ViewFloorplan): InterNet[] {
  const out: InterNet[] = [];
  for (const n of [...netInfo(nl).values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!n.driver) continue;
    const sinks = [...new Set(n.sinks.map((s) => s.inst))].filter((s) => s !== n.driver!.inst);
    if (n.chipOut && n.driver.inst !== CHIP) sinks.push(CHIP);
    if (!sinks.length) continue;
    let len = 0;
    let bond = false;
    for (const s of sinks) {
      const b = branchOf(fp, n.driver.inst, s);
      len += b.lengthUm;
      bond ||= b.bond;
    }
    out.push({ net: n.name, width: n.width, driver: n.driver.inst, sinks, lengthUm: len, bond });
  }
  return out;
}

export function viewWire(fp: ViewFloorplan, blocks: readonly BlockWire[], nets: readonly InterNet[]): ViewWire {
  const dieOf = (inst: string) => (inst === CHIP ? fp.dies[0].name : fp.dies.find((d) => d.blocks.some((b) => b.inst === inst))!.name);
  const dies: DieWire[] = fp.dies.map((d) => {
    const intra = blocks.filter((b) => dieOf(b.inst) === d.name).reduce((a, b) => a + b.intraUm, 0);
    const inter = nets.filter((n) => dieOf(n.driver) === d.name).reduce((a, n) => a + n.lengthUm * n.width, 0);
    return { die: d.name, intraUm: intra, interUm: inter, totalUm: intra + inter };
  });
  const intraUm = dies.reduce((a, d) => a + d.intraUm, 0);
  const interUm = dies.reduce((a, d) => a + d.interUm, 0);
  return { intraUm, interUm, totalUm: intraUm + interUm, dies, nets: [...nets] };
}
