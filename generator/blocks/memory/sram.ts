/**
 * SRAM area / access energy / clock-to-Q versus size, for the PPA report and the
 * macro tiler.  Data: the fakeram45 figures (ORFS nangate45, CACTI-derived) and
 * Horowitz's 45 nm SRAM energy, both listed with their figures in docs/MEMORY.md
 * ("Memory macros").  Between and beyond those points `sramEstimate` uses a
 * power-law fit (least squares in log space) and says so in `source`.
 * Documented in docs/MEMORY.md ("PPA table").
 */

export interface SramRow {
  depth: number;
  width: number;
  /** macro area, µm² (null: the source gives none) */
  areaUm2: number | null;
  /** clock-to-Q (read access), ns (null: the source gives none) */
  clkToQNs: number | null;
  /** energy per access / per clock edge, pJ */
  energyPj: number | null;
  /** cell_leakage_power of the macro, nW (null: the source gives none) */
  leakageNw: number | null;
  /** where the row comes from */
  source: string;
}

const FAKERAM45 = "fakeram45 (ORFS nangate45 LIB/LEF, CACTI-derived; figures in docs/MEMORY.md); leakage: cell_leakage_power of ORFS flow/platforms/nangate45/lib/fakeram45_<d>x<w>.lib";
const HOROWITZ = "Horowitz, ISSCC 2014, 45 nm: 8 KB SRAM, 64-bit read ≈ 10 pJ (\"Computing's energy problem\")";

/** The figures, one row per macro; `source` beside each row. */
export const SRAM_TABLE: readonly SramRow[] = [
  { depth: 32, width: 32, areaUm2: 795, clkToQNs: 0.173, energyPj: 0.66, leakageNw: 45733, source: FAKERAM45 },
  { depth: 64, width: 32, areaUm2: 1241, clkToQNs: 0.207, energyPj: 0.8, leakageNw: 81627.2, source: FAKERAM45 },
  { depth: 256, width: 16, areaUm2: 3155, clkToQNs: 0.204, energyPj: 1.36, leakageNw: 169783, source: FAKERAM45 },
  { depth: 256, width: 32, areaUm2: 5066, clkToQNs: 0.235, energyPj: 1.87, leakageNw: 289841, source: FAKERAM45 },
  { depth: 1024, width: 32, areaUm2: 16406, clkToQNs: 0.309, energyPj: 3.57, leakageNw: 797666, source: FAKERAM45 },
  { depth: 512, width: 64, areaUm2: 17301, clkToQNs: 0.305, energyPj: 5.3, leakageNw: 823237, source: FAKERAM45 },
  { depth: 128, width: 256, areaUm2: 33990, clkToQNs: 0.302, energyPj: 15.69, leakageNw: 1023890, source: FAKERAM45 },
  { depth: 2048, width: 39, areaUm2: 45479, clkToQNs: 0.435, energyPj: 6.86, leakageNw: 1876600, source: FAKERAM45 },
  // 8 KB organised as 1024 words x 64 bits; energy only (cross-check of the fit, not fitted)
  { depth: 1024, width: 64, areaUm2: null, clkToQNs: null, energyPj: 10, leakageNw: null, source: HOROWITZ },
];

/** The rows the fit uses: the fakeram45 macros (one consistent source). */
const FIT_ROWS = SRAM_TABLE.filter((r) => r.source === FAKERAM45);

/** Least squares (normal equations, Gauss-Jordan with partial pivoting). */
function lstsq(X: number[][], y: number[]): number[] {
  const n = X[0].length;
  const A = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const b = new Array<number>(n).fill(0);
  X.forEach((row, i) => {
    for (let j = 0; j < n; j++) {
      b[j] += row[j] * y[i];
      for (let k = 0; k < n; k++) A[j][k] += row[j] * row[k];
    }
  });
  for (let i = 0; i < n; i++) {
    let p = i;
    for (let r = i + 1; r < n; r++) if (Math.abs(A[r][i]) > Math.abs(A[p][i])) p = r;
    [A[i], A[p]] = [A[p], A[i]];
    [b[i], b[p]] = [b[p], b[i]];
    for (let r = 0; r < n; r++) {
      if (r === i) continue;
      const f = A[r][i] / A[i][i];
      for (let k = i; k < n; k++) A[r][k] -= f * A[i][k];
      b[r] -= f * b[i];
    }
  }
  return b.map((v, i) => v / A[i][i]);
}

/** Power law q = exp(c0) * depth^c1 * width^c2, fitted in log space. */
export interface PowerLaw {
  c0: number;
  depthExp: number;
  widthExp: number;
  /** largest |estimate / table - 1| over the fitted rows */
  maxRelErr: number;
}

function fitPowerLaw(pick: (r: SramRow) => number | null): PowerLaw {
  const rows = FIT_ROWS.filter((r) => pick(r) !== null);
  const [c0, depthExp, widthExp] = lstsq(
    rows.map((r) => [1, Math.log(r.depth), Math.log(r.width)]),
    rows.map((r) => Math.log(pick(r)!)),
  );
  const f = (d: number, w: number) => Math.exp(c0 + depthExp * Math.log(d) + widthExp * Math.log(w));
  const maxRelErr = Math.max(...rows.map((r) => Math.abs(f(r.depth, r.width) / pick(r)! - 1)));
  return { c0, depthExp, widthExp, maxRelErr };
}

/** The three fits (computed once from SRAM_TABLE, so the table is the only place numbers live). */
export const SRAM_FIT = {
  area: fitPowerLaw((r) => r.areaUm2),
  energy: fitPowerLaw((r) => r.energyPj),
  clkToQ: fitPowerLaw((r) => r.clkToQNs),
  leakage: fitPowerLaw((r) => r.leakageNw),
};

const evalLaw = (p: PowerLaw, d: number, w: number) => Math.exp(p.c0 + p.depthExp * Math.log(d) + p.widthExp * Math.log(w));

const FIT_DEPTHS = FIT_ROWS.map((r) => r.depth);
const FIT_WIDTHS = FIT_ROWS.map((r) => r.width);
const FIT_BITS = FIT_ROWS.map((r) => r.depth * r.width);

export interface SramEstimate {
  areaUm2: number;
  energyPj: number;
  clkToQNs: number;
  /** cell_leakage_power at 45 nm, nW */
  leakageNw: number;
  /** "table: ..." for a macro in SRAM_TABLE, else the fit, marked interpolation or extrapolation */
  source: string;
}

/**
 * Area, energy per access and clock-to-Q of one depth x width 1RW SRAM macro in 45 nm.
 * Exact table values for a fakeram45 shape in SRAM_TABLE; otherwise the power-law fit
 * over those rows, labelled "interpolation" when depth, width and depth x width all lie
 * within the table's ranges (32..2048 words, 16..256 bits, 1..78 kbit) and "extrapolation"
 * otherwise.
 */
export function sramEstimate(depth: number, width: number): SramEstimate {
  if (!(Number.isInteger(depth) && depth >= 1 && Number.isInteger(width) && width >= 1))
    throw new Error(`sramEstimate: depth and width must be positive integers, got ${depth} x ${width}`);
  const hit = FIT_ROWS.find((r) => r.depth === depth && r.width === width);
  if (hit) return { areaUm2: hit.areaUm2!, energyPj: hit.energyPj!, clkToQNs: hit.clkToQNs!, leakageNw: hit.leakageNw!, source: `table: ${hit.depth}x${hit.width} ${hit.source}` };
  const bits = depth * width;
  const inside =
    depth >= Math.min(...FIT_DEPTHS) &&
    depth <= Math.max(...FIT_DEPTHS) &&
    width >= Math.min(...FIT_WIDTHS) &&
    width <= Math.max(...FIT_WIDTHS) &&
    bits >= Math.min(...FIT_BITS) &&
    bits <= Math.max(...FIT_BITS);
  const worst = Math.max(SRAM_FIT.area.maxRelErr, SRAM_FIT.energy.maxRelErr, SRAM_FIT.clkToQ.maxRelErr, SRAM_FIT.leakage.maxRelErr);
  return {
    areaUm2: evalLaw(SRAM_FIT.area, depth, width),
    energyPj: evalLaw(SRAM_FIT.energy, depth, width),
    clkToQNs: evalLaw(SRAM_FIT.clkToQ, depth, width),
    leakageNw: evalLaw(SRAM_FIT.leakage, depth, width),
    source: `${inside ? "interpolation" : "extrapolation"}: power-law fit to the ${FIT_ROWS.length} fakeram45 rows (max error on the rows ${Math.round(worst * 100)}%)`,
  };
}

/**
 * Fixed cost of one macro expressed in bits of array: intercept / slope of the straight-line
 * fit area = a0 + a1 * bits over the fakeram45 rows (periphery: decoders, sense amplifiers,
 * control, which a macro pays however few bits it holds).  The tiler trades padding against
 * macro count with it (docs/MEMORY.md, "Choosing macro shapes").
 */
export const MACRO_OVERHEAD_BITS: number = (() => {
  const [a0, a1] = lstsq(
    FIT_ROWS.map((r) => [1, r.depth * r.width]),
    FIT_ROWS.map((r) => r.areaUm2!),
  );
  return Math.round(a0 / a1);
})();
