/**
 * Wire parasitics of the nets between top-level instances, as a SPEF that OpenSTA reads
 * (`read_spef`): for every bit of every net whose driver and sinks are different top-level
 * instances, a star from the driver pin with one branch per sink instance (its pins hang off
 * the branch's end node through 1 mΩ), one π segment per branch:
 *   R = r·L (+ R_bond across the bond), C = c·L split half/half over the two ends (+ C_bond at
 *   the sink end across the bond), with L from a DistanceSource (./floorplan.ts) and r, c the
 *   per-µm resistance and capacitance of the LEF routing layer (library.ts, lefWireRc).
 * Loads inside the driver's own instance sit at the driver (no wire).  Nets that touch a chip
 * port are left without parasitics (the host port is constrained by I/O delays instead), and so
 * is the clock (ideal before clock-tree synthesis).
 * The same per-bit wire capacitances give the wire energy (./power.ts): ½·C·V² per toggle.
 */
import type { Netlist, Tier } from "../top/netlist.ts";
import { CHIP, netInfo } from "../top/netlist.ts";
import { loadLibrary, type CellLibrary, type LibraryOptions, type WireRc } from "./library.ts";
import fs from "node:fs";
import type { Branch, DistanceSource } from "./floorplan.ts";
import { emitVerilog, pinDir, spefName, type YModule } from "./netlist.ts";
import { blockOf } from "./synth.ts";

/** Hybrid-bond R and C (resistance negligible, 0.02 Ω per cut in the open hybrid-bond LEFs of the OpenROAD 3D flows; capacitance not published, 0.2–1 fF assumed; docs/PHYSICAL.md). */
export const BOND_RC = {
  rOhm: 0.02,
  cFf: 0.5,
  source: "hybrid bond: R 0.02 ohm per cut (open hybrid-bond LEFs of the OpenROAD Pin-3D / Open3DBench flows; docs/PHYSICAL.md); C 0.5 fF, the middle of the 0.2-1 fF range assumed there (no published figure)",
};

export interface WireNet {
  /** top-level net name */
  net: string;
  width: number;
  driver: string;
  sinks: string[];
  /** per bit: total wire capacitance (fF) and longest branch (µm) */
  capFfPerBit: number;
  maxBranchUm: number;
  /** sum of the branch lengths of one bit, µm */
  lengthUmPerBit: number;
  bonds: number;
}

export interface Parasitics {
  spef: string;
  nets: WireNet[];
  wire: WireRc;
  bond: typeof BOND_RC;
  distances: string;
  /** bits written to the SPEF */
  bits: number;
  /** driver-to-sink branches that cross the bond (3D) */
  bondBranches: number;
}

const fmt = (v: number) => (Math.abs(v) < 1e-12 ? "0" : v.toPrecision(6).replace(/\.?0+(e|$)/, "$1"));

/**
 * SPEF of the inter-instance nets of a flat view.  `flat` is the view's flat Yosys module
 * (generator/physical/synth.ts flatView), `tierOf` null for the 2D view.
 */
export function interInstanceParasitics(lib: CellLibrary, top: string, flat: YModule, nl: Netlist, dist: DistanceSource, tierOf: ((inst: string) => Tier) | null, wire: WireRc): Parasitics {
  const em = emitVerilog(lib, top, flat);
  const threeD = tierOf !== null;
  const nets = netInfo(nl);
  const chipPorts = new Set(nl.ports.map((p) => p.name));
  // the flat bits of every candidate net
  const wanted = new Map<number, { net: string; bit: number }>();
  const cands: { name: string; width: number; driver: string; sinks: string[] }[] = [];
  for (const n of [...nets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!n.driver || n.driver.inst === CHIP || n.chipOut || chipPorts.has(n.name) || n.name === "clk") continue;
    const sinkInsts = [...new Set(n.sinks.map((s) => s.inst))].filter((s) => s !== n.driver!.inst);
    if (!sinkInsts.length) continue;
    const t = threeD ? `u_tier_${tierOf!(n.driver.inst)}.` : "";
    const key = [`${t}${n.name}`, `${t}f2f_${n.name}`].find((k) => k in flat.netnames);
    if (!key) throw new Error(`flat ${top}: no net ${t}${n.name} (nor ${t}f2f_${n.name}) to carry the wire of ${n.name}`);
    const nn = flat.netnames[key];
    if (nn.bits.length !== n.width) throw new Error(`flat ${top}: net ${key} has ${nn.bits.length} bits, the netlist says ${n.width}`);
    nn.bits.forEach((b, i) => {
      if (typeof b === "number" && !wanted.has(b)) wanted.set(b, { net: n.name, bit: i });
    });
    cands.push({ name: n.name, width: n.width, driver: n.driver.inst, sinks: sinkInsts });
  }
  // pins of those bits
  type Pin = { cell: string; port: string; index: number; width: number; dir: "input" | "output" | "inout" | null; type: string };
  const pins = new Map<number, Pin[]>();
  for (const [cn, c] of Object.entries(flat.cells))
    for (const [port, bits] of Object.entries(c.connections))
      bits.forEach((b, index) => {
        if (typeof b !== "number" || !wanted.has(b)) return;
        const l = pins.get(b) ?? [];
        l.push({ cell: cn, port, index, width: bits.length, dir: pinDir(lib, c, port), type: c.type });
        pins.set(b, l);
      });
  const pinName = (p: Pin) => `${spefName(em.cellNames.get(p.cell)!)}:${spefName(p.width > 1 ? `${p.port}[${p.index}]` : p.port)}`;
  const blockOfCell = (cell: string) => blockOf(cell, threeD);
  const out: string[] = [
    '*SPEF "IEEE 1481-1998"',
    `*DESIGN "${top}"`,
    '*DATE "0"',
    '*VENDOR "st3d"',
    '*PROGRAM "st3d physical"',
    '*VERSION "1"',
    '*DESIGN_FLOW "INTER_INSTANCE_WIRES_ONLY"',
    "*DIVIDER /",
    "*DELIMITER :",
    "*BUS_DELIMITER [ ]",
    "*T_UNIT 1 NS",
    "*C_UNIT 1 FF",
    "*R_UNIT 1 OHM",
    "*L_UNIT 1 HENRY",
    "",
  ];
  const summary = new Map<string, WireNet>();
  let bitsWritten = 0;
  let bondBranches = 0;
  for (const [b, { net }] of [...wanted.entries()].sort((x, y) => x[0] - y[0])) {
    const ps = pins.get(b) ?? [];
    const drv = ps.filter((p) => p.dir === "output");
    if (drv.length !== 1) continue; // driven by a port or undriven: nothing to model
    const d = drv[0];
    const dBlock = blockOfCell(d.cell);
    const sinks = ps.filter((p) => p.dir === "input");
    const caps = new Map<string, number>();
    const res: [string, string, number][] = [];
    const dn = pinName(d);
    const netName = spefName(em.bitNames.get(b)!);
    caps.set(dn, 0);
    let cTot = 0;
    let lenSum = 0;
    let maxLen = 0;
    let bonds = 0;
    // one trunk per sink instance (driver pin -> a node in that instance, π segment of the
    // branch length, + the bond across the dies), its pins hanging off that node: a routed net
    // reaches another block once, not once per pin
    const hubs = new Map<string, string>();
    sinks.forEach((s) => {
      const sn = pinName(s);
      const sBlock = blockOfCell(s.cell);
      if (sBlock !== dBlock && sBlock !== "<top>" && dBlock !== "<top>") {
        let hub = hubs.get(sBlock);
        if (!hub) {
          hub = `${netName}:${hubs.size + 1}`;
          hubs.set(sBlock, hub);
          const br = dist.branch(dBlock, sBlock);
          const r = Math.max(1e-3, wire.rOhmPerUm * br.lengthUm + (br.bond ? BOND_RC.rOhm : 0));
          const cw = wire.cFfPerUm * br.lengthUm;
          const cb = br.bond ? BOND_RC.cFf : 0;
          lenSum += br.lengthUm;
          maxLen = Math.max(maxLen, br.lengthUm);
          if (br.bond) bonds++;
          if (br.bond) bondBranches++;
          caps.set(dn, (caps.get(dn) ?? 0) + cw / 2);
          caps.set(hub, cw / 2 + cb);
          cTot += cw + cb;
          res.push([dn, hub, r]);
        }
        res.push([hub, sn, 1e-3]);
      } else res.push([dn, sn, 1e-3]);
    });
    out.push(`*D_NET ${netName} ${fmt(cTot)}`, "*CONN", `*I ${dn} O *D ${d.type}`, ...sinks.map((s) => `*I ${pinName(s)} I *D ${s.type}`), "*CAP");
    let k = 1;
    for (const [node, c] of caps) if (c > 0) out.push(`${k++} ${node} ${fmt(c)}`);
    out.push("*RES");
    res.forEach(([a, z, r], i) => out.push(`${i + 1} ${a} ${z} ${fmt(r)}`));
    out.push("*END", "");
    bitsWritten++;
    const w = summary.get(net);
    const cand = cands.find((c) => c.name === net)!;
    if (!w) summary.set(net, { net, width: cand.width, driver: cand.driver, sinks: cand.sinks, capFfPerBit: cTot, maxBranchUm: maxLen, lengthUmPerBit: lenSum, bonds });
    else {
      w.capFfPerBit = Math.max(w.capFfPerBit, cTot);
      w.maxBranchUm = Math.max(w.maxBranchUm, maxLen);
      w.lengthUmPerBit = Math.max(w.lengthUmPerBit, lenSum);
      w.bonds = Math.max(w.bonds, bonds);
    }
  }
  return { spef: out.join("\n") + "\n", nets: [...summary.values()], wire, bond: BOND_RC, distances: dist.describe(), bits: bitsWritten, bondBranches };
}

/** Every (driver, sink) instance pair of the netlist's nets with its branch (the table a worker needs). */
export function branchTable(nl: Netlist, dist: DistanceSource): Record<string, Branch> {
  const out: Record<string, Branch> = {};
  for (const n of netInfo(nl).values()) {
    if (!n.driver || n.driver.inst === CHIP) continue;
    for (const s of n.sinks) {
      const k = `${n.driver.inst}|${s.inst}`;
      if (s.inst !== n.driver.inst && !(k in out)) out[k] = dist.branch(n.driver.inst, s.inst);
    }
  }
  return out;
}

/** Worker: the parasitics of a flat view (its JSON file), the SPEF written to `spefFile`. */
export async function parasiticsJob(a: { libOptions: LibraryOptions; top: string; flatJson: string; nl: Netlist; branches: Record<string, Branch>; distances: string; tierOf: Record<string, Tier> | null; wire: WireRc; spefFile: string }): Promise<Omit<Parasitics, "spef">> {
  const lib = loadLibrary(a.libOptions);
  const flat = JSON.parse(fs.readFileSync(a.flatJson, "utf8")).modules[a.top] as YModule;
  const dist: DistanceSource = {
    branch: (d, s) => {
      const b = a.branches[`${d}|${s}`];
      if (!b) throw new Error(`internal error: no branch ${d} -> ${s}`);
      return b;
    },
    describe: () => a.distances,
  };
  const p = interInstanceParasitics(lib, a.top, flat, a.nl, dist, a.tierOf ? (i) => a.tierOf![i] : null, a.wire);
  fs.writeFileSync(a.spefFile, p.spef);
  const { spef: _spef, ...rest } = p;
  void _spef;
  return rest;
}
