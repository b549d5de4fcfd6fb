/**
 * Rent's rule measured on a synthesized netlist, and Donath's average wire length.
 *
 * Rent's rule (Landman & Russo, IEEE Trans. Computers C-20(12), 1971): a block of G gates of a
 * netlist partitioned for few external nets has T ≈ t·G^p terminals.  Measured here as they
 * did, by recursive min-cut bisection (./mincut.ts): the module's cells are bisected, each half
 * again, down to single cells; at every level k the mean gate count Ḡ_k and the mean terminal
 * count T̄_k of the blocks (nets with a pin inside and a pin outside the block, a module port
 * counting as outside) give one point; p and t are the least-squares line through
 * (log Ḡ_k, log T̄_k) over the levels with 4 ≤ Ḡ_k ≤ G/8 (Rent's region I: the top levels feel
 * the module's port count, the bottom ones single cells).
 *
 * Donath (IEEE Trans. Circuits and Systems CAS-26(4), 1979, "Placement and average
 * interconnection lengths of computer logic"): the average length of a connection between
 * the N gates of a hierarchically placed square block, in gate pitches,
 *   L̄ = 2/9 · [7·(N^(p−½) − 1)/(4^(p−½) − 1) − (1 − N^(p−3/2))/(1 − 4^(p−3/2))] · (1 − 4^(p−1))/(1 − N^(p−1))
 * (its limit at p = ½ is taken numerically).
 *
 * Nets: every bit net of the mapped module except the clock (routed by the clock tree, not by
 * the signal router) and constants; vertices: every cell except st3d's rail ties.
 */
import type { Bit, YModule } from "../physical/netlist.ts";
import { bisect, incidence, type Csr } from "./mincut.ts";

export interface RentLevel {
  level: number;
  blocks: number;
  meanGates: number;
  meanTerminals: number;
}

export interface RentFit {
  /** Rent exponent p */
  p: number;
  /** Rent coefficient t (terminals of one gate) */
  t: number;
  /** levels used in the fit (region I) */
  fitLevels: number[];
  levels: RentLevel[];
  cells: number;
  nets: number;
  /** pins of the nets (cells' connections to them) */
  pins: number;
  /** the fit had at least two points */
  measured: boolean;
}

/** The hypergraph of a mapped module: cells → vertices, signal bit nets → nets; `external`: nets touching a port. */
export function moduleHypergraph(m: YModule, opts: { clockBits?: ReadonlySet<number>; skipCell?: (type: string) => boolean } = {}): { g: Csr; external: Uint8Array; cellNames: string[] } {
  const skip = opts.skipCell ?? ((t: string) => t === "ST3D_TIEHI" || t === "ST3D_TIELO");
  const clock = opts.clockBits ?? new Set<number>();
  const cellNames = Object.keys(m.cells)
    .filter((c) => !skip(m.cells[c].type))
    .sort();
  const pinsOfBit = new Map<number, number[]>();
  cellNames.forEach((c, v) => {
    const seen = new Set<number>();
    for (const bits of Object.values(m.cells[c].connections))
      for (const b of bits as Bit[]) {
        if (typeof b !== "number" || clock.has(b) || seen.has(b)) continue;
        seen.add(b);
        const l = pinsOfBit.get(b);
        if (l) l.push(v);
        else pinsOfBit.set(b, [v]);
      }
  });
  const portBits = new Set<number>();
  for (const p of Object.values(m.ports)) for (const b of p.bits) if (typeof b === "number") portBits.add(b);
  const bits = [...pinsOfBit.keys()].sort((a, b) => a - b).filter((b) => pinsOfBit.get(b)!.length >= 2 || portBits.has(b));
  const netStart = new Int32Array(bits.length + 1);
  let total = 0;
  bits.forEach((b, e) => {
    total += pinsOfBit.get(b)!.length;
    netStart[e + 1] = total;
  });
  const netPins = new Int32Array(total);
  const external = new Uint8Array(bits.length);
  bits.forEach((b, e) => {
    netPins.set(pinsOfBit.get(b)!, netStart[e]);
    external[e] = portBits.has(b) ? 1 : 0;
  });
  return { g: { vertices: cellNames.length, netStart, netPins }, external, cellNames };
}

/** Least-squares line y = a + b·x. */
function line(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return { a: my - b * mx, b };
}

/**
 * Rent exponent of a hypergraph by recursive bisection (deterministic).  Asynchronous: it
 * yields to the event loop every ~100 ms so that progress heartbeats keep firing on big modules.
 */
export async function measureRent(g: Csr, external: Uint8Array, opts: { seed?: number; minGates?: number; maxFraction?: number; allLevels?: boolean; epsilon?: number } = {}): Promise<RentFit> {
  let lastYield = Date.now();
  const breathe = async () => {
    if (Date.now() - lastYield < 100) return;
    await new Promise((res) => setImmediate(res));
    lastYield = Date.now();
  };
  const inc = incidence(g);
  const nNets = g.netStart.length - 1;
  const pins = g.netStart[nNets];
  const levels: RentLevel[] = [];
  // block id per vertex; per level, the list of blocks
  let blocks: Int32Array[] = [Int32Array.from({ length: g.vertices }, (_, i) => i)];
  const inside = new Int32Array(nNets);
  const stamp = new Int32Array(nNets).fill(-1);
  let tag = 0;
  let level = 0;
  const seed = opts.seed ?? 1;
  const minG = opts.minGates ?? 4;
  // levels below minG gates are not fitted: stop bisecting there (unless asked for every level)
  const stopBelow = opts.allLevels ? 2 : 2 * minG;
  while (blocks.length) {
    // terminals of every block at this level
    let sumG = 0;
    let sumT = 0;
    blocks.forEach((b) => {
      const id = tag++;
      let t = 0;
      const touched: number[] = [];
      for (const v of b)
        for (let k = inc.start[v]; k < inc.start[v + 1]; k++) {
          const e = inc.nets[k];
          if (stamp[e] !== id) {
            stamp[e] = id;
            inside[e] = 0;
            touched.push(e);
          }
          inside[e]++;
        }
      for (const e of touched) if (external[e] || inside[e] < g.netStart[e + 1] - g.netStart[e]) t++;
      sumG += b.length;
      sumT += t;
    });
    levels.push({ level, blocks: blocks.length, meanGates: sumG / blocks.length, meanTerminals: sumT / blocks.length });
    const nextBlocks: Int32Array[] = [];
    for (const b of blocks) {
      if (b.length < stopBelow) continue;
      await breathe();
      const { side } = bisect(g, inc, b, { seed: seed + level, epsilon: opts.epsilon });
      const a0: number[] = [];
      const a1: number[] = [];
      b.forEach((v, i) => (side[i] ? a1 : a0).push(v));
      if (a0.length) nextBlocks.push(Int32Array.from(a0));
      if (a1.length) nextBlocks.push(Int32Array.from(a1));
    }
    blocks = nextBlocks;
    if (stopBelow > 2) {
      level++;
      continue;
    }
    if (blocks.every((b) => b.length < 2) && blocks.length) {
      // the singleton level: record it and stop
      level++;
      let sumT1 = 0;
      for (const b of blocks) {
        const v = b[0];
        let t = 0;
        for (let k = inc.start[v]; k < inc.start[v + 1]; k++) {
          const e = inc.nets[k];
          if (external[e] || g.netStart[e + 1] - g.netStart[e] > 1) t++;
        }
        sumT1 += t;
      }
      levels.push({ level, blocks: blocks.length, meanGates: 1, meanTerminals: sumT1 / blocks.length });
      break;
    }
    level++;
  }
  const maxG = g.vertices * (opts.maxFraction ?? 1 / 8);
  const fit = levels.filter((l) => l.meanGates >= minG && l.meanGates <= maxG && l.meanTerminals > 0);
  if (fit.length < 2) return { p: NaN, t: NaN, fitLevels: fit.map((l) => l.level), levels, cells: g.vertices, nets: nNets, pins, measured: false };
  const { a, b } = line(
    fit.map((l) => Math.log(l.meanGates)),
    fit.map((l) => Math.log(l.meanTerminals)),
  );
  return { p: b, t: Math.exp(a), fitLevels: fit.map((l) => l.level), levels, cells: g.vertices, nets: nNets, pins, measured: true };
}

/** Donath's average connection length (gate pitches) in a square block of N gates with Rent exponent p. */
export function donathLength(N: number, p: number): number {
  if (N <= 1) return 0;
  const f = (q: number) => {
    const a = q - 0.5;
    const b = q - 1.5;
    const c = q - 1;
    return (2 / 9) * ((7 * (N ** a - 1)) / (4 ** a - 1) - (1 - N ** b) / (1 - 4 ** b)) * ((1 - 4 ** c) / (1 - N ** c));
  };
  // removable singularity at p = 1/2 (and p = 1): average the two sides
  if (Math.abs(p - 0.5) < 1e-6 || Math.abs(p - 1) < 1e-6) return (f(p - 1e-4) + f(p + 1e-4)) / 2;
  return f(p);
}
