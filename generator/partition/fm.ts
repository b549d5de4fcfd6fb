/**
 * Two-way min-cut partitioning of a weighted hypergraph (Fiduccia–Mattheyses) under an
 * area-balance bound and an optional cut limit (the bond budget).  Deterministic: the
 * starts are given or drawn from a seeded Prng, ties are broken by vertex index.
 *
 * Cost of a partition, compared lexicographically (smaller is better):
 *   1. balance violation  max(0, |W1 - W0| / (W0 + W1) - balance)
 *   2. cut-limit violation max(0, cut - cutLimit(W0, W1))
 *   3. cut (sum of the weights of the nets with pins on both sides)
 *   4. |W1 - W0|
 * so a balanced partition always beats an unbalanced one, whatever its cut.
 *
 * A pass moves every free vertex once (a move that keeps the balance bound first, then the
 * largest cut gain, then the better balance),
 * staying within the balance bound plus one move of the heaviest free vertex (or not increasing the
 * imbalance when already beyond that), then rolls back to its best prefix by the cost
 * above; passes repeat while they improve.  The graphs here are small (tens of instances), so gains are recomputed from
 * per-net side counts rather than kept in bucket lists: O(V * pins) per move.
 */
import { Prng } from "../util/prng.ts";

export type Side = 0 | 1;

export interface Hypergraph {
  /** vertex weights (areas), vertices 0 .. n-1 */
  weights: number[];
  /** nets: distinct vertex indices and a weight (bits) */
  nets: { pins: number[]; weight: number }[];
  /** vertices that may not move, with their side */
  fixed: Map<number, Side>;
}

export interface FmOptions {
  /** bound on |W1 - W0| / (W0 + W1) */
  balance: number;
  /** largest acceptable cut for side weights (W0, W1); default: no limit */
  cutLimit?: (w0: number, w1: number) => number;
  /** starting partitions (fixed vertices are forced to their side) */
  starts?: Side[][];
  /** additional random starts (default 24) from Prng(seed) */
  randomStarts?: number;
  seed?: number;
  /** cap on passes per start (default 64) */
  maxPasses?: number;
}

export interface PartitionCost {
  balanceViolation: number;
  limitViolation: number;
  cut: number;
  imbalance: number;
}

export interface FmResult {
  side: Side[];
  cost: PartitionCost;
  cut: number;
  weights: [number, number];
  /** |W1 - W0| / (W0 + W1) (0 when both are empty) */
  balance: number;
  /** balance bound and cut limit both met */
  feasible: boolean;
  /** index of the start that produced the result (given starts first, then random) */
  start: number;
}

const EPS = 1e-9;

function cmpNum(a: number, b: number): number {
  const tol = EPS * Math.max(1, Math.abs(a), Math.abs(b));
  return a < b - tol ? -1 : a > b + tol ? 1 : 0;
}

export function compareCost(a: PartitionCost, b: PartitionCost): number {
  return cmpNum(a.balanceViolation, b.balanceViolation) || cmpNum(a.limitViolation, b.limitViolation) || cmpNum(a.cut, b.cut) || cmpNum(a.imbalance, b.imbalance);
}

export function balanceOf(w0: number, w1: number): number {
  const t = w0 + w1;
  return t > 0 ? Math.abs(w1 - w0) / t : 0;
}

function costOf(cut: number, w0: number, w1: number, opts: FmOptions): PartitionCost {
  const limit = opts.cutLimit ? opts.cutLimit(w0, w1) : Infinity;
  return {
    balanceViolation: Math.max(0, balanceOf(w0, w1) - opts.balance),
    limitViolation: Math.max(0, cut - limit),
    cut,
    imbalance: Math.abs(w1 - w0),
  };
}

/** Cut of a partition: total weight of nets with pins on both sides. */
export function cutOf(hg: Hypergraph, side: readonly Side[]): number {
  let cut = 0;
  for (const e of hg.nets) {
    const s0 = side[e.pins[0]];
    if (e.pins.some((v) => side[v] !== s0)) cut += e.weight;
  }
  return cut;
}

function validate(hg: Hypergraph, side: readonly Side[]): void {
  if (side.length !== hg.weights.length) throw new Error(`partition has ${side.length} entries for ${hg.weights.length} vertices`);
  for (const [v, s] of hg.fixed) if (side[v] !== s) throw new Error(`vertex ${v} is fixed on side ${s}`);
}

/** Evaluate a given partition (cost, cut, weights). */
export function evaluate(hg: Hypergraph, side: readonly Side[], opts: FmOptions): Omit<FmResult, "start"> {
  validate(hg, side);
  const w: [number, number] = [0, 0];
  side.forEach((s, v) => (w[s] += hg.weights[v]));
  const cut = cutOf(hg, side);
  const cost = costOf(cut, w[0], w[1], opts);
  return { side: [...side], cost, cut, weights: w, balance: balanceOf(w[0], w[1]), feasible: cost.balanceViolation === 0 && cost.limitViolation === 0 };
}

/** One FM run from a start; returns the final partition. */
function fmFrom(hg: Hypergraph, start: readonly Side[], opts: FmOptions): Side[] {
  const n = hg.weights.length;
  const side = start.map((s, v) => (hg.fixed.has(v) ? hg.fixed.get(v)! : s)) as Side[];
  const incident: number[][] = Array.from({ length: n }, () => []);
  hg.nets.forEach((e, i) => e.pins.forEach((v) => incident[v].push(i)));
  const maxPasses = opts.maxPasses ?? 64;
  // a pass may leave the balance bound by one move of the heaviest free vertex (it changes
  // |W1 - W0| by twice its weight), so two vertices can swap sides one after the other;
  // prefixes are kept by their true cost only
  const slack = 2 * Math.max(0, ...hg.weights.filter((_, v) => !hg.fixed.has(v)));

  for (let pass = 0; pass < maxPasses; pass++) {
    const count = hg.nets.map((e) => {
      const c = [0, 0];
      for (const v of e.pins) c[side[v]]++;
      return c;
    });
    const w: [number, number] = [0, 0];
    side.forEach((s, v) => (w[s] += hg.weights[v]));
    let cut = 0;
    hg.nets.forEach((e, i) => {
      if (count[i][0] && count[i][1]) cut += e.weight;
    });
    const startCost = costOf(cut, w[0], w[1], opts);
    let best = startCost;
    let bestLen = 0;
    const moves: number[] = [];
    const locked = new Array<boolean>(n).fill(false);
    for (const v of hg.fixed.keys()) locked[v] = true;

    for (;;) {
      let pick = -1;
      let pickCost: PartitionCost | undefined;
      let pickGain = 0;
      const curImb = Math.abs(w[1] - w[0]);
      const allowed = Math.max(curImb, opts.balance * (w[0] + w[1]) + slack);
      for (let v = 0; v < n; v++) {
        if (locked[v]) continue;
        const s = side[v];
        const t = (1 - s) as Side;
        let gain = 0;
        for (const i of incident[v]) {
          const c = count[i];
          if (c[s] === 1 && c[t] > 0) gain += hg.nets[i].weight; // becomes uncut
          else if (c[t] === 0 && c[s] > 1) gain -= hg.nets[i].weight; // becomes cut
        }
        const nw: [number, number] = [w[0], w[1]];
        nw[s] -= hg.weights[v];
        nw[t] += hg.weights[v];
        const c = costOf(cut - gain, nw[0], nw[1], opts);
        if (cmpNum(c.imbalance, allowed) > 0) continue;
        // FM: a move that keeps the balance bound first, then the largest gain, then the
        // better balance, then the lower index
        const inB = c.balanceViolation === 0;
        const pickInB = pickCost?.balanceViolation === 0;
        if (!pickCost || (inB && !pickInB) || (inB === pickInB && (gain > pickGain || (gain === pickGain && cmpNum(c.imbalance, pickCost.imbalance) < 0)))) {
          pick = v;
          pickCost = c;
          pickGain = gain;
        }
      }
      if (pick < 0) break;
      const s = side[pick];
      const t = (1 - s) as Side;
      for (const i of incident[pick]) {
        count[i][s]--;
        count[i][t]++;
      }
      side[pick] = t;
      w[s] -= hg.weights[pick];
      w[t] += hg.weights[pick];
      cut -= pickGain;
      locked[pick] = true;
      moves.push(pick);
      if (compareCost(pickCost!, best) < 0) {
        best = pickCost!;
        bestLen = moves.length;
      }
    }
    for (let i = moves.length - 1; i >= bestLen; i--) side[moves[i]] = (1 - side[moves[i]]) as Side;
    if (compareCost(best, startCost) >= 0) break;
  }
  return side;
}

/** Greedy balanced start: heaviest free vertex first, onto the lighter side. */
export function greedyStart(hg: Hypergraph): Side[] {
  const n = hg.weights.length;
  const side = new Array<Side>(n).fill(0);
  const w = [0, 0];
  for (const [v, s] of hg.fixed) {
    side[v] = s;
    w[s] += hg.weights[v];
  }
  const free = [...Array(n).keys()].filter((v) => !hg.fixed.has(v)).sort((a, b) => hg.weights[b] - hg.weights[a] || a - b);
  for (const v of free) {
    const s: Side = w[1] < w[0] ? 1 : 0;
    side[v] = s;
    w[s] += hg.weights[v];
  }
  return side;
}

/**
 * FM from every start (the given ones, a greedy balanced one, `randomStarts` random ones);
 * the best final partition wins (earliest start on a tie).
 */
export function fmBipartition(hg: Hypergraph, opts: FmOptions): FmResult {
  const n = hg.weights.length;
  const rng = new Prng(opts.seed ?? 1);
  const starts: Side[][] = [...(opts.starts ?? []), greedyStart(hg)];
  for (let i = 0; i < (opts.randomStarts ?? 24); i++) starts.push(Array.from({ length: n }, () => rng.bit(0.5)));
  let best: FmResult | undefined;
  starts.forEach((st, i) => {
    const res = { ...evaluate(hg, fmFrom(hg, st, opts), opts), start: i };
    if (!best || compareCost(res.cost, best.cost) < 0) best = res;
  });
  return best!;
}

/** Exhaustive search (for tests and tiny graphs): the optimum of the same cost, at most 22 free vertices. */
export function exactBipartition(hg: Hypergraph, opts: FmOptions): FmResult {
  const n = hg.weights.length;
  const free = [...Array(n).keys()].filter((v) => !hg.fixed.has(v));
  if (free.length > 22) throw new Error(`exactBipartition: ${free.length} free vertices is too many`);
  const side = new Array<Side>(n).fill(0);
  for (const [v, s] of hg.fixed) side[v] = s;
  let best: FmResult | undefined;
  for (let m = 0; m < 1 << free.length; m++) {
    free.forEach((v, i) => (side[v] = ((m >> i) & 1) as Side));
    const res = { ...evaluate(hg, side, opts), start: -1 };
    if (!best || compareCost(res.cost, best.cost) < 0) best = res;
  }
  return best!;
}
