/**
 * Min-cut bisection of large hypergraphs (mapped netlists of 10^2..10^6 cells), for the Rent
 * exponent (./rent.ts).  The same Fiduccia–Mattheyses move rule as generator/partition/fm.ts
 * (which works on the tens of top-level instances and recomputes gains per move), here with the
 * classic gain buckets (Fiduccia & Mattheyses, DAC 1982), so a pass costs O(pins):
 *   - unit vertex weights (a cell is a gate), nets of weight 1;
 *   - balance: each side holds between floor(n·(1−ε)/2) and ceil(n·(1+ε)/2) vertices;
 *   - a pass moves every vertex at most once, always the highest-gain vertex whose move keeps
 *     the balance (ties: last inserted first, deterministic), updates the gains of the
 *     neighbours on the nets that become or stop being critical, and rolls back to the best
 *     prefix (smallest cut, then better balance); passes repeat while the cut improves;
 *   - the start is a seeded shuffle (generator/util/prng.ts), so the result is deterministic.
 */
import { Prng } from "../util/prng.ts";

/** A hypergraph in compressed form: net e has pins netPins[netStart[e] .. netStart[e+1]). */
export interface Csr {
  vertices: number;
  netStart: Int32Array;
  netPins: Int32Array;
}

/** Vertex → nets incidence of a Csr. */
export function incidence(g: Csr): { start: Int32Array; nets: Int32Array } {
  const deg = new Int32Array(g.vertices + 1);
  const nNets = g.netStart.length - 1;
  for (let e = 0; e < nNets; e++) for (let k = g.netStart[e]; k < g.netStart[e + 1]; k++) deg[g.netPins[k] + 1]++;
  for (let v = 0; v < g.vertices; v++) deg[v + 1] += deg[v];
  const nets = new Int32Array(deg[g.vertices]);
  const fill = deg.slice(0, g.vertices);
  for (let e = 0; e < nNets; e++) for (let k = g.netStart[e]; k < g.netStart[e + 1]; k++) nets[fill[g.netPins[k]]++] = e;
  return { start: deg, nets };
}

interface Scratch {
  tag: number;
  localOf: Int32Array;
  inBlock: Int32Array;
  netStamp: Int32Array;
}
const scratch = new WeakMap<Csr, Scratch>();
function scratchOf(g: Csr): Scratch {
  let s = scratch.get(g);
  if (!s) {
    s = { tag: 0, localOf: new Int32Array(g.vertices), inBlock: new Int32Array(g.vertices), netStamp: new Int32Array(g.netStart.length - 1) };
    scratch.set(g, s);
  }
  return s;
}

export interface BisectOptions {
  /** allowed imbalance ε (default 0.1: each side 45..55 %) */
  epsilon?: number;
  seed?: number;
  /** pass cap (default 12) */
  maxPasses?: number;
}

/**
 * Bisect the sub-hypergraph induced by `verts` (global vertex ids) of `g`: nets restricted to
 * their pins inside `verts` (pins outside are ignored).  Returns the side (0/1) of each entry
 * of `verts`, and the cut (nets with restricted pins on both sides).
 */
export function bisect(g: Csr, inc: { start: Int32Array; nets: Int32Array }, verts: Int32Array, opts: BisectOptions = {}): { side: Uint8Array; cut: number } {
  const n = verts.length;
  const side = new Uint8Array(n);
  if (n < 2) return { side, cut: 0 };
  // local sub-hypergraph (scratch arrays sized to the whole graph, reused between calls)
  const sc = scratchOf(g);
  const stamp = ++sc.tag;
  for (let i = 0; i < n; i++) {
    sc.localOf[verts[i]] = i;
    sc.inBlock[verts[i]] = stamp;
  }
  const pinsL: number[][] = [];
  for (let i = 0; i < n; i++) {
    const v = verts[i];
    for (let k = inc.start[v]; k < inc.start[v + 1]; k++) {
      const e = inc.nets[k];
      if (sc.netStamp[e] === stamp) continue;
      sc.netStamp[e] = stamp;
      const p: number[] = [];
      for (let q = g.netStart[e]; q < g.netStart[e + 1]; q++) {
        const u = g.netPins[q];
        if (sc.inBlock[u] === stamp) p.push(sc.localOf[u]);
      }
      pinsL.push(p);
    }
  }
  const nets: Int32Array[] = [];
  for (const p of pinsL) if (p.length >= 2) nets.push(Int32Array.from(p));
  const m = nets.length;
  const vdeg = new Int32Array(n + 1);
  for (const p of nets) for (const v of p) vdeg[v + 1]++;
  for (let v = 0; v < n; v++) vdeg[v + 1] += vdeg[v];
  const vnets = new Int32Array(vdeg[n]);
  {
    const fill = vdeg.slice(0, n);
    nets.forEach((p, e) => p.forEach((v) => (vnets[fill[v]++] = e)));
  }
  let maxDeg = 1;
  for (let v = 0; v < n; v++) maxDeg = Math.max(maxDeg, vdeg[v + 1] - vdeg[v]);

  const eps = opts.epsilon ?? 0.1;
  // both sides non-empty, whatever ε
  const lo = Math.max(1, Math.floor((n * (1 - eps)) / 2));
  const hi = Math.min(n - 1, Math.ceil((n * (1 + eps)) / 2));
  // start: seeded shuffle, first half on side 0
  const order = Array.from({ length: n }, (_, i) => i);
  new Prng(opts.seed ?? 1).shuffle(order);
  for (let i = 0; i < n; i++) side[order[i]] = i < n >> 1 ? 0 : 1;

  const cnt0 = new Int32Array(m);
  const cnt1 = new Int32Array(m);
  const count = () => {
    cnt0.fill(0);
    cnt1.fill(0);
    let cut = 0;
    for (let e = 0; e < m; e++) {
      for (const v of nets[e]) side[v] ? cnt1[e]++ : cnt0[e]++;
      if (cnt0[e] && cnt1[e]) cut++;
    }
    return cut;
  };
  let cut = count();
  // gain buckets per side: doubly linked lists indexed by gain + maxDeg
  const B = 2 * maxDeg + 1;
  const head = [new Int32Array(B).fill(-1), new Int32Array(B).fill(-1)];
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const gain = new Int32Array(n);
  const locked = new Uint8Array(n);
  const maxG = [0, 0];
  const insert = (v: number) => {
    const s = side[v];
    const b = gain[v] + maxDeg;
    next[v] = head[s][b];
    prev[v] = -1;
    if (head[s][b] >= 0) prev[head[s][b]] = v;
    head[s][b] = v;
    if (b > maxG[s]) maxG[s] = b;
  };
  const remove = (v: number) => {
    const s = side[v];
    const b = gain[v] + maxDeg;
    if (prev[v] >= 0) next[prev[v]] = next[v];
    else head[s][b] = next[v];
    if (next[v] >= 0) prev[next[v]] = prev[v];
  };
  const bump = (v: number, d: number) => {
    if (locked[v]) return;
    remove(v);
    gain[v] += d;
    insert(v);
  };
  const top = (s: number): number => {
    while (maxG[s] >= 0 && head[s][maxG[s]] < 0) maxG[s]--;
    return maxG[s] >= 0 ? head[s][maxG[s]] : -1;
  };

  const maxPasses = opts.maxPasses ?? 12;
  let size0 = 0;
  for (let v = 0; v < n; v++) if (!side[v]) size0++;
  for (let pass = 0; pass < maxPasses; pass++) {
    head[0].fill(-1);
    head[1].fill(-1);
    maxG[0] = maxG[1] = 0;
    locked.fill(0);
    for (let v = 0; v < n; v++) {
      let g0 = 0;
      const s = side[v];
      for (let k = vdeg[v]; k < vdeg[v + 1]; k++) {
        const e = vnets[k];
        const from = s ? cnt1[e] : cnt0[e];
        const to = s ? cnt0[e] : cnt1[e];
        if (from === 1) g0++;
        if (to === 0) g0--;
      }
      gain[v] = g0;
      insert(v);
    }
    const moves: number[] = [];
    let bestCut = cut;
    let bestLen = 0;
    let bestImb = Math.abs(2 * size0 - n);
    let curCut = cut;
    let s0 = size0;
    for (let step = 0; step < n; step++) {
      // candidates: the best of each side whose move keeps the balance
      const c0 = s0 - 1 >= lo && n - (s0 - 1) <= hi ? top(0) : -1; // move 0 -> 1
      const c1 = s0 + 1 <= hi && n - (s0 + 1) >= lo ? top(1) : -1; // move 1 -> 0
      let v = -1;
      if (c0 >= 0 && c1 >= 0) v = gain[c0] > gain[c1] || (gain[c0] === gain[c1] && s0 >= n - s0) ? c0 : c1;
      else v = c0 >= 0 ? c0 : c1;
      if (v < 0) break;
      const from = side[v];
      remove(v);
      locked[v] = 1;
      curCut -= gain[v];
      // FM gain updates (before / after the move on each net of v)
      for (let k = vdeg[v]; k < vdeg[v + 1]; k++) {
        const e = vnets[k];
        const cf = from ? cnt1 : cnt0;
        const ct = from ? cnt0 : cnt1;
        const p = nets[e];
        if (ct[e] === 0) for (const u of p) bump(u, 1);
        else if (ct[e] === 1) for (const u of p) if (side[u] !== from) bump(u, -1);
        cf[e]--;
        ct[e]++;
        if (cf[e] === 0) for (const u of p) bump(u, -1);
        else if (cf[e] === 1) for (const u of p) if (side[u] === from && u !== v) bump(u, 1);
      }
      side[v] = from ? 0 : 1;
      s0 += from ? 1 : -1;
      moves.push(v);
      const imb = Math.abs(2 * s0 - n);
      if (curCut < bestCut || (curCut === bestCut && imb < bestImb)) {
        bestCut = curCut;
        bestLen = moves.length;
        bestImb = imb;
      }
    }
    // roll back past the best prefix
    for (let i = moves.length - 1; i >= bestLen; i--) {
      const v = moves[i];
      side[v] = side[v] ? 0 : 1;
    }
    s0 = 0;
    for (let v = 0; v < n; v++) if (!side[v]) s0++;
    size0 = s0;
    const improved = bestCut < cut;
    cut = count();
    if (!improved) break;
  }
  return { side, cut };
}
