/**
 * Every constant of the 2D-vs-3D model with its value, unit and source (report.json →
 * `constants`, the report page, docs/REPORT.md), and the paper's published ranges that the
 * report puts beside st3d's figures.  Nothing here is tuned toward the paper: a constant is a
 * published figure, a figure read from the cell library / LEF, or a stated modelling choice.
 */
import { parseLiberty, type LibGroup } from "./../physical/liberty.ts";
import fs from "node:fs";
import type { CellLibrary } from "../physical/library.ts";

export interface Constant {
  name: string;
  value: number;
  unit: string;
  source: string;
}

/** Standard-cell utilization of a block's rectangle (cells / utilization; macros at their own area). */
export const UTILIZATION: Constant = {
  name: "stdCellUtilization",
  value: 0.5,
  unit: "-",
  source: "ORFS flow/designs/nangate45/ibex/config.mk: CORE_UTILIZATION ?= 50 (a usual starting density of the ORFS designs)",
};

export const MACRO_UTILIZATION: Constant = {
  name: "macroUtilization",
  value: 1,
  unit: "-",
  source: "st3d model choice: a macro occupies its own area (halos and channels between macros are not modelled)",
};

/** Bakoglu & Meindl: delay of an optimally repeated RC line = 2.5·√(R0·C0·r·c) per unit length. */
export const REPEATER_COEFF: Constant = {
  name: "repeatedWireCoefficient",
  value: 2.5,
  unit: "-",
  source: "Bakoglu & Meindl, 'Optimal interconnection circuits for VLSI', IEEE Trans. Electron Devices 32(5), 1985: optimally repeated line delay 2.5·sqrt(R0·C0·r·c)·L",
};

export const ELMORE_50: Constant = {
  name: "elmore50",
  value: Math.LN2,
  unit: "-",
  source: "50 % point of a lumped RC step response: t = ln 2 · R·C (Elmore / Rabaey et al., Digital Integrated Circuits 2e, §4.4)",
};

export const RENT_FIT_MIN_GATES: Constant = {
  name: "rentFitMinGates",
  value: 4,
  unit: "gates",
  source: "st3d model choice (Landman & Russo 1971 region I: levels of single cells and pairs are left out of the fit)",
};

export const RENT_FIT_MAX_FRACTION: Constant = {
  name: "rentFitMaxFraction",
  value: 1 / 8,
  unit: "of the module's cells",
  source: "st3d model choice (Landman & Russo 1971 region I: the top levels, whose terminals are the module's ports, are left out of the fit)",
};

export const RENT_BISECTION_EPSILON: Constant = {
  name: "rentBisectionImbalance",
  value: 0.1,
  unit: "-",
  source: "st3d model choice: each half of a Rent bisection holds 45-55 % of the cells (Fiduccia & Mattheyses, DAC 1982, balanced bipartition)",
};

/**
 * Off-chip DRAM energy per 64-bit access at 45 nm, the two ends of the published range
 * (weights streamed from off-chip, hardware.weightsOnChip false).  The energy model charges the
 * low end (DRAM_ENERGY_64.value) per 8 bytes read; the high end is reported beside it.
 */
const HOROWITZ_DRAM = "Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014 (45 nm): DRAM 1.3-2.6 nJ per 64-bit access";
export const DRAM_ENERGY_64: Constant = {
  name: "dram.energyPer64bitAccess",
  value: 1300,
  unit: "pJ per 64-bit access",
  source: `${HOROWITZ_DRAM}; the low end`,
};
export const DRAM_ENERGY_64_HIGH: Constant = {
  name: "dram.energyPer64bitAccessHigh",
  value: 2600,
  unit: "pJ per 64-bit access",
  source: `${HOROWITZ_DRAM}; the high end (reported as the upper bound of the DRAM term)`,
};

/** Energy of reading `bytes` from off-chip DRAM, pJ: bytes / 8 64-bit accesses x the constant (low end, and the high end). */
export function dramEnergyPj(bytes: number): { accesses: number; pj: number; pjHigh: number } {
  const accesses = bytes / 8;
  return { accesses, pj: accesses * DRAM_ENERGY_64.value, pjHigh: accesses * DRAM_ENERGY_64_HIGH.value };
}

export interface PublishedRange {
  metric: string;
  /** st3d key of the 3D/2D change it compares with */
  key: "footprint" | "power" | "memLatency" | "wirelength" | "feff" | "fmax" | "energy";
  /** 3D vs 2D change, fraction (−0.41 = −41 %) */
  lo: number;
  hi: number;
  /** how the range is written when it is not a plain interval (e.g. "higher") */
  text?: string;
  source: string;
}

export const PUBLISHED: readonly PublishedRange[] = [
  { metric: "footprint", key: "footprint", lo: -0.41, hi: -0.39, source: "Xu et al., arXiv 2412.05540: area -39...41 % (2D vs two-tier F2F 3D; secondary summary, docs/REPORT.md Sources)" },
  { metric: "power (MoE design)", key: "power", lo: -0.144, hi: -0.144, source: "Xu et al., arXiv 2412.05540: power -14.4 % for the MoE design" },
  { metric: "memory-access latency", key: "memLatency", lo: -0.3, hi: -0.15, source: "Xu et al., arXiv 2412.05540: memory-access latency -15...30 %" },
  { metric: "wirelength", key: "wirelength", lo: -0.25, hi: -0.1, source: "two-tier F2F range named in issue #15; Open3DBench (memory-on-logic, NanGate45) reports -20...-24 %" },
  { metric: "effective frequency", key: "feff", lo: 1e-9, hi: 1, text: "higher (> 0 %)", source: "Xu et al., arXiv 2412.05540: 'higher effective frequency', f_eff = 1/(T_clk - WNS)" },
  { metric: "fmax", key: "fmax", lo: 0.06, hi: 0.07, source: "sister paper, arXiv 2411.07397 (ICCAD 2024): +6...7 % fmax" },
];

// ---------------------------------------------------------------- figures read from the library

function tableSlope(g: LibGroup, name: string): number | null {
  const t = g.groups.find((x) => x.type === name);
  if (!t) return null;
  const idx1 = (t.complex.get("index_1")?.[0]?.[0] ?? "").split(",").map(Number);
  const rows = (t.complex.get("values")?.[0] ?? []).map((r) => r.split(",").map(Number));
  if (idx1.length < 2 || rows.length !== idx1.length) return null;
  // variable_1 = load (the first column: the smallest input transition)
  const y0 = rows[0][0];
  const y1 = rows[rows.length - 1][0];
  return (y1 - y0) / (idx1[idx1.length - 1] - idx1[0]);
}

export interface Driver {
  cell: string;
  /** equivalent output resistance, Ω: (50 % delay slope vs load) / ln 2 */
  rOhm: number;
  /** input capacitance, fF */
  cInFf: number;
  source: string;
}

/** The minimum inverter of the library as the repeater / driver of the wire model. */
export function minimumDriver(lib: CellLibrary): Driver {
  const inv = lib.inverter;
  const text = fs.readFileSync(lib.liberty, "utf8");
  const root = parseLiberty(text, lib.liberty);
  const cell = root.groups.find((g) => g.type === "cell" && g.args[0] === inv.name);
  const out = cell?.groups.find((g) => g.type === "pin" && g.attrs.get("direction") === "output");
  const timing = out?.groups.find((g) => g.type === "timing");
  const slopes = timing ? ["cell_rise", "cell_fall"].map((k) => tableSlope(timing, k)).filter((x): x is number => x !== null) : [];
  if (!slopes.length) throw new Error(`${lib.liberty}: no cell_rise/cell_fall table on ${inv.name} (needed for the wire-delay model's driver resistance)`);
  // library units: time / capacitance -> ns/pF = kΩ
  const slope = (slopes.reduce((a, b) => a + b, 0) / slopes.length) * (lib.lib.timeUnitNs / lib.lib.capUnitPf);
  const rOhm = (slope * 1000) / Math.LN2;
  const cInFf = (inv.pins.find((p) => p.direction === "input")?.capPf ?? 0) * 1000;
  return { cell: inv.name, rOhm, cInFf, source: `${lib.liberty.split("/").pop()} ${inv.name}: mean slope of cell_rise/cell_fall vs load at the smallest input transition / ln 2; input capacitance of pin A` };
}
