/**
 * The SRAM model at the node of the logic library, and a liberty per macro shape.
 *
 * One model: the fakeram45 figures (./sram.ts: ORFS nangate45, CACTI-derived, 45 nm, 1.1 V),
 * moved to the node and supply of the logic library with the scaling equations of
 * Stillmaker & Baas, "Scaling equations for the accurate prediction of CMOS device
 * performance from 180 nm to 7 nm", Integration, the VLSI Journal 58 (2017) 74–81
 * (doi:10.1016/j.vlsi.2017.02.002): area by their area table, delays by their cubic delay
 * fit in VDD, energies by their quadratic energy fit in VDD.  Leakage: the 45 nm leakage does
 * not scale to an older node by any published factor we trust, so it is modelled from the
 * logic library itself: two minimum inverters per bit cell (a 6T cell is two cross-coupled
 * inverters plus two access transistors; Rabaey, Chandrakasan, Nikolić, Digital Integrated
 * Circuits, 2nd ed., §12.2), times the bits; periphery leakage is not counted.
 * Every constant is listed in SRAM_MODEL_CONSTANTS (value, unit, source) and docs/MEMORY.md.
 *
 * `macroLiberty` writes the liberty of one macro shape with those figures, in the style of the
 * ORFS fakeram45 libraries (scalar clock-to-Q arcs, scalar setup/hold, 2-point output slew
 * table), so that OpenSTA times through the macros as ORFS does.  Access energy is NOT put in
 * the liberty's internal power: st3d counts every read and write in simulation and charges
 * them itself (generator/physical/power.ts); the liberty carries the leakage.
 */
import { sramEstimate, type SramEstimate } from "./sram.ts";
import type { MacroPorts } from "./macros.ts";

/**
 * Stillmaker & Baas (2017), Table 4/5 fitting coefficients, transcribed by the MIT-licensed
 * nodeScale tool (W. Romaszkan, UCLA NanoCAD Lab, github.com/wromaszkan/nodeScale); the 65 nm
 * and HP32 energy rows match the authors' own published erratum example
 * (vcl.ece.ucdavis.edu/pubs/2017.02.VLSIintegration.TechScale).
 * delay(V) = d[0]V³ + d[1]V² + d[2]V + d[3];  energy(V) = e[0]V² + e[1]V + e[2]   (relative units)
 */
export const STILLMAKER: Record<string, { delay: [number, number, number, number]; energy: [number, number, number] }> = {
  "180": { delay: [0, 97.09, -356.7, 406.5], energy: [0, 24.64, -17.98] },
  "130": { delay: [-76.65, 334.9, -493.4, 275.8], energy: [7.171, -6.709, 2.904] },
  "90": { delay: [-60.34, 262.5, -384.2, 210.9], energy: [4.762, -4.781, 2.092] },
  "65": { delay: [-53.3, 230.4, -333.9, 178.6], energy: [3.755, -4.398, 1.975] },
  HP45: { delay: [-501.6, 1567, -1619, 566.1], energy: [1.018, -0.3107, 0.1539] },
  HP32: { delay: [-1047, 2982, -2797, 873.5], energy: [0.8367, -0.4341, 0.1701] },
  HP20: { delay: [0, 34.63, -66.37, 41.15], energy: [0.373, -0.1582, 0.04104] },
  HP16: { delay: [0, 24.8, -47.52, 28.87], energy: [0.2958, -0.1241, 0.03024] },
  HP14: { delay: [-40.66, 109.2, -100.6, 35.92], energy: [0.2363, -0.09675, 0.02239] },
  HP10: { delay: [-34.95, 93.65, -85.99, 30.4], energy: [0.2068, -0.09311, 0.02375] },
  HP7: { delay: [-28.58, 76.6, -70.26, 24.69], energy: [0.1776, -0.09097, 0.02447] },
};

/** Stillmaker & Baas (2017) area table: area at 45 nm relative to the area at node N. */
export const STILLMAKER_AREA_45_REL: Record<number, number> = { 180: 0.053, 130: 0.16, 90: 0.35, 65: 0.66, 45: 1, 32: 2.2, 20: 4.7, 16: 5.3, 14: 5.8, 10: 9.8, 7: 17 };

export const SCALING_NODES = Object.keys(STILLMAKER_AREA_45_REL).map(Number).sort((a, b) => b - a);

const key = (nodeNm: number) => (nodeNm >= 65 ? String(nodeNm) : `HP${nodeNm}`);

/** The source node of the figures: fakeram45, 45 nm, its LIB's nom_voltage 1.1 V, taken as Stillmaker's HP45. */
export const SOURCE_NODE = { nodeNm: 45, voltage: 1.1, key: "HP45" };

const poly = (c: readonly number[], v: number) => c.reduce((a, k) => a * v + k, 0);

export interface NodeFactors {
  nodeNm: number;
  voltage: number;
  area: number;
  delay: number;
  energy: number;
  /** capacitance: energy / V², i.e. energy × (V45 / V)² */
  capacitance: number;
}

/** Factors that move a 45 nm / 1.1 V figure to (nodeNm, voltage). */
export function nodeFactors(nodeNm: number, voltage: number): NodeFactors {
  const k = key(nodeNm);
  const c = STILLMAKER[k];
  const a = STILLMAKER_AREA_45_REL[nodeNm];
  if (!c || a === undefined)
    throw new Error(`no SRAM scaling for a ${nodeNm} nm library: Stillmaker & Baas cover ${SCALING_NODES.join(", ")} nm; pass --node with one of them`);
  if (!(voltage > 0)) throw new Error(`no nominal voltage for the ${nodeNm} nm library (liberty nom_voltage); cannot scale the SRAM model`);
  const s = STILLMAKER[SOURCE_NODE.key];
  const delay = poly(c.delay, voltage) / poly(s.delay, SOURCE_NODE.voltage);
  const energy = poly(c.energy, voltage) / poly(s.energy, SOURCE_NODE.voltage);
  return { nodeNm, voltage, area: 1 / a, delay, energy, capacitance: energy * (SOURCE_NODE.voltage / voltage) ** 2 };
}

/** fakeram45 pin and constraint figures (every ORFS fakeram45 LIB: same values for all shapes). */
export const FAKERAM45_PINS = {
  setupNs: 0.05,
  holdNs: 0.05,
  inputCapFf: 5,
  clkCapFf: 25,
  /** output transition table: [load fF, transition ns] */
  outSlew: [
    [5, 0.009],
    [500, 0.227],
  ] as [number, number][],
  source: "ORFS flow/platforms/nangate45/lib/fakeram45_*.lib (setup_rising/hold_rising 0.050 ns, input pins 5 fF, clk 25 fF, rd_out transition 0.009 ns @ 5 fF .. 0.227 ns @ 500 fF)",
};

export interface SramAtNode {
  macro: string;
  ports: MacroPorts;
  depth: number;
  width: number;
  nodeNm: number;
  voltage: number;
  areaUm2: number;
  clkToQNs: number;
  setupNs: number;
  holdNs: number;
  readPj: number;
  writePj: number;
  leakageNw: number;
  inputCapPf: number;
  clkCapPf: number;
  /** the 45 nm figures it was scaled from */
  reference45: SramEstimate;
  factors: NodeFactors;
  source: string;
}

export interface SramTarget {
  nodeNm: number;
  voltage: number;
  /** leakage of the logic library's minimum inverter, nW (bit-cell leakage model) */
  inverterLeakageNw: number;
  inverterCell: string;
}

/** One macro at the target node (figures per access; 2P macros: one read and one write per cycle at most). */
export function sramAtNode(macro: string, ports: MacroPorts, depth: number, width: number, t: SramTarget): SramAtNode {
  const ref = sramEstimate(depth, width);
  const f = nodeFactors(t.nodeNm, t.voltage);
  return {
    macro,
    ports,
    depth,
    width,
    nodeNm: t.nodeNm,
    voltage: t.voltage,
    areaUm2: ref.areaUm2 * f.area,
    clkToQNs: ref.clkToQNs * f.delay,
    setupNs: FAKERAM45_PINS.setupNs * f.delay,
    holdNs: FAKERAM45_PINS.holdNs * f.delay,
    readPj: ref.energyPj * f.energy,
    writePj: ref.energyPj * f.energy,
    leakageNw: 2 * depth * width * t.inverterLeakageNw,
    inputCapPf: (FAKERAM45_PINS.inputCapFf * f.capacitance) / 1000,
    clkCapPf: (FAKERAM45_PINS.clkCapFf * f.capacitance) / 1000,
    reference45: ref,
    factors: f,
    source: `fakeram45 ${ref.source}; scaled 45 nm/1.1 V -> ${t.nodeNm} nm/${t.voltage} V (Stillmaker & Baas 2017: area x${f.area.toFixed(3)}, delay x${f.delay.toFixed(3)}, energy x${f.energy.toFixed(3)}); leakage = 2 x bits x ${t.inverterCell} leakage`,
  };
}

/** Every model constant, with value, unit and source (for report.json and the docs). */
export function sramModelConstants(t: SramTarget): { name: string; value: number; unit: string; source: string }[] {
  const f = nodeFactors(t.nodeNm, t.voltage);
  const SB = "Stillmaker & Baas, Integration 58 (2017) 74-81, fits via nodeScale (UCLA NanoCAD)";
  return [
    { name: "sourceNode", value: 45, unit: "nm", source: "fakeram45 (ORFS nangate45)" },
    { name: "sourceVoltage", value: SOURCE_NODE.voltage, unit: "V", source: "fakeram45 LIB nom_voltage" },
    { name: "targetNode", value: t.nodeNm, unit: "nm", source: "logic library (--node or inferred from its name)" },
    { name: "targetVoltage", value: t.voltage, unit: "V", source: "logic library liberty nom_voltage" },
    { name: "areaFactor", value: f.area, unit: "x", source: `${SB}, area table (45 nm = ${STILLMAKER_AREA_45_REL[t.nodeNm]} x ${t.nodeNm} nm)` },
    { name: "delayFactor", value: f.delay, unit: "x", source: `${SB}, delay fits ${key(t.nodeNm)} @ ${t.voltage} V / HP45 @ 1.1 V` },
    { name: "energyFactor", value: f.energy, unit: "x", source: `${SB}, energy fits ${key(t.nodeNm)} @ ${t.voltage} V / HP45 @ 1.1 V` },
    { name: "capacitanceFactor", value: f.capacitance, unit: "x", source: "energyFactor x (1.1 V / targetVoltage)^2 (C = E / V^2)" },
    { name: "setup45", value: FAKERAM45_PINS.setupNs, unit: "ns", source: FAKERAM45_PINS.source },
    { name: "hold45", value: FAKERAM45_PINS.holdNs, unit: "ns", source: FAKERAM45_PINS.source },
    { name: "inputCap45", value: FAKERAM45_PINS.inputCapFf, unit: "fF", source: FAKERAM45_PINS.source },
    { name: "clkCap45", value: FAKERAM45_PINS.clkCapFf, unit: "fF", source: FAKERAM45_PINS.source },
    { name: "bitcellInverters", value: 2, unit: "inverters/bit", source: "6T cell = two cross-coupled inverters + two access transistors (Rabaey et al., Digital Integrated Circuits, 2nd ed., 12.2); periphery leakage not counted" },
    { name: "inverterLeakage", value: t.inverterLeakageNw, unit: "nW", source: `cell_leakage_power of ${t.inverterCell} in the logic liberty` },
    { name: "readEqualsWrite", value: 1, unit: "-", source: "fakeram45 LIBs charge one clk internal energy per access, read or write" },
  ];
}

const n = (v: number, d = 4) => {
  const s = v.toFixed(d);
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, ".0") : s;
};

/** Liberty text of one macro shape (units: ns, pF, uA, V, nW; one cell named like the stub). */
export function macroLiberty(m: SramAtNode): string {
  const aw = Math.max(1, Math.ceil(Math.log2(m.depth)));
  const f = m.factors;
  const slew = FAKERAM45_PINS.outSlew.map(([c, t]) => [(c * f.capacitance) / 1000, t * f.delay]);
  const lib = `${m.macro}_lib`;
  const out: string[] = [];
  const p = (s: string) => out.push(s);
  p(`/* st3d SRAM macro model: ${m.macro} (${m.depth} x ${m.width}, ${m.ports}), ${m.nodeNm} nm / ${m.voltage} V.`);
  p(`   ${m.source}.`);
  p(`   Access energy (read ${n(m.readPj, 3)} pJ, write ${n(m.writePj, 3)} pJ) is charged by st3d from simulated access counts, not here. */`);
  p(`library (${lib}) {`);
  p(`  technology (cmos);`);
  p(`  delay_model : table_lookup;`);
  p(`  time_unit : "1ns";`);
  p(`  voltage_unit : "1V";`);
  p(`  current_unit : "1uA";`);
  p(`  leakage_power_unit : "1nW";`);
  p(`  capacitive_load_unit (1,pf);`);
  p(`  pulling_resistance_unit : "1kohm";`);
  p(`  nom_process : 1;`);
  p(`  nom_temperature : 25;`);
  p(`  nom_voltage : ${m.voltage};`);
  for (const d of ["rise", "fall"]) {
    p(`  slew_lower_threshold_pct_${d} : 20;`);
    p(`  slew_upper_threshold_pct_${d} : 80;`);
    p(`  input_threshold_pct_${d} : 50;`);
    p(`  output_threshold_pct_${d} : 50;`);
  }
  p(`  lu_table_template (${m.macro}_slew) {`);
  p(`    variable_1 : total_output_net_capacitance;`);
  p(`    index_1 ("1000, 1001");`);
  p(`  }`);
  p(`  type (${m.macro}_DATA) { base_type : array; data_type : bit; bit_width : ${m.width}; bit_from : ${m.width - 1}; bit_to : 0; downto : true; }`);
  p(`  type (${m.macro}_ADDR) { base_type : array; data_type : bit; bit_width : ${aw}; bit_from : ${aw - 1}; bit_to : 0; downto : true; }`);
  p(`  cell (${m.macro}) {`);
  p(`    area : ${n(m.areaUm2, 3)};`);
  p(`    interface_timing : true;`);
  p(`    dont_use : true;`);
  p(`    cell_leakage_power : ${n(m.leakageNw, 4)};`);
  p(`    pin (clk) { direction : input; capacitance : ${n(m.clkCapPf, 6)}; clock : true; }`);
  const constraint = (indent: string) => {
    for (const [type, v] of [
      ["setup_rising", m.setupNs],
      ["hold_rising", m.holdNs],
    ] as const) {
      p(`${indent}timing () { related_pin : "clk"; timing_type : ${type};`);
      p(`${indent}  rise_constraint (scalar) { values ("${n(v)}"); }`);
      p(`${indent}  fall_constraint (scalar) { values ("${n(v)}"); }`);
      p(`${indent}}`);
    }
  };
  const input = (name: string, bus?: string) => {
    p(`    ${bus ? `bus (${name}) { bus_type : ${bus};` : `pin (${name}) {`} direction : input; capacitance : ${n(m.inputCapPf, 6)};`);
    constraint("      ");
    p(`    }`);
  };
  p(`    bus (rd_out) { bus_type : ${m.macro}_DATA; direction : output; max_capacitance : ${n(slew[1][0], 4)};`);
  p(`      timing () { related_pin : "clk"; timing_type : rising_edge; timing_sense : non_unate;`);
  p(`        cell_rise (scalar) { values ("${n(m.clkToQNs)}"); }`);
  p(`        cell_fall (scalar) { values ("${n(m.clkToQNs)}"); }`);
  for (const tr of ["rise_transition", "fall_transition"]) {
    p(`        ${tr} (${m.macro}_slew) { index_1 ("${n(slew[0][0], 6)}, ${n(slew[1][0], 6)}"); values ("${n(slew[0][1])}, ${n(slew[1][1])}"); }`);
  }
  p(`      }`);
  p(`    }`);
  if (m.ports === "1rw") {
    input("ce_in");
    input("we_in");
    input("addr_in", `${m.macro}_ADDR`);
  } else {
    input("re_in");
    input("raddr_in", `${m.macro}_ADDR`);
    input("we_in");
    input("waddr_in", `${m.macro}_ADDR`);
  }
  input("wd_in", `${m.macro}_DATA`);
  input("w_mask_in", `${m.macro}_DATA`);
  p(`  }`);
  p(`}`);
  return out.join("\n") + "\n";
}
