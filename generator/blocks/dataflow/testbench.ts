/**
 * Testbench generation for the dataflow unit with its synaptic pool: one top testbench
 * holding one sub-testbench per shape (config), each with behavioral models (ram1r1w) of
 * every memory, and per data set the memory images and the expected buffer contents of
 * every block, written from a model, an input and the golden trace.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderFile } from "../../render/render.ts";
import type { GeneratedFile } from "../../core/files.ts";
import { packLanes } from "../../util/lanes.ts";
import { maxS, minS } from "../../util/bits.ts";
import { Prng } from "../../util/prng.ts";
import { runGolden, type GoldenStats, type Model } from "../../model/golden.ts";
import { lifStep } from "../lifArray/golden.ts";
import { linear } from "../linearEngine/golden.ts";
import { renderRam1r1w, type LogicalMemory } from "../memory/ram1r1w.ts";
import { renderSynPool, synPoolParams, type SynPoolParams } from "../synPool/synPool.ts";
import { dataflowImages, dataflowParams, renderDataflow, type DataflowParams } from "./dataflow.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
type T3 = number[][][];

export interface DataflowTbShape {
  r: Resolved;
  p: DataflowParams;
  pool: SynPoolParams;
  /** file prefix in the data folder (= r.name) */
  prefix: string;
}

export function dataflowTbShape(r: Resolved): DataflowTbShape {
  return { r, p: dataflowParams(r), pool: synPoolParams(r), prefix: r.name };
}

const hexOf = (v: bigint, width: number) => v.toString(16).padStart(Math.ceil(width / 4), "0");

/** A generous cycle budget of one inference (watchdog only). */
export function dataflowCycleLimit(p: DataflowParams): number {
  const g = p.geo;
  const TN = g.T * g.N;
  const layer = (fanin: number, tiles: number) => TN * (1 + tiles * (fanin + 4)) + 100;
  const perBlock = 3 * TN * g.tilesD + 4 * layer(g.D, g.tilesD) + g.E * (layer(g.D, g.tilesF) + layer(g.F, g.tilesD)) + g.T * (g.N + 5) * (g.N + 5) * 8 + TN * (g.D + 10) + 1000;
  return 4 * g.L * perBlock + 1000;
}

export function renderDataflowTb(tbModule: string, shapes: DataflowTbShape[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  let worstNs = 0;
  const subs = shapes.map((sh) => {
    const { r, p, pool } = sh;
    files.push(...renderDataflow(r, p), ...renderSynPool(r, pool));
    const mems: LogicalMemory[] = [...p.memories.map((m) => m.mem), ...pool.memories.map((m) => m.mem), p.umem];
    for (const m of mems) files.push(renderRam1r1w(r, m, "sim"));
    const tbsModule = `${r.name}_dataflow_tbs`;
    const limit = dataflowCycleLimit(p);
    worstNs = Math.max(worstNs, 10 * limit);
    const poolPorts = [
      "clk", "rst", "start", "cfg_fanin", "cfg_tiles", "cfg_wbase", "cfg_bbase", "cfg_wbank", "busy", "done", "row_valid", "row_ready", "row_tag", "row_spikes",
      "row_last", "out_valid", "out_ready", "out_tag", "out_tile", "out_data", "out_last", "perf_class", "w_gnt",
      ...pool.memories.flatMap((m) => [`${m.prefix}_re`, `${m.prefix}_raddr`, `${m.prefix}_rdata`]),
    ];
    const poolNet: Record<string, string> = { clk: "clk", rst: "rst", busy: "pool_busy", out_last: "pool_out_last", perf_class: "pool_class", w_gnt: "1'b1" };
    const memPin = new Set(pool.memories.flatMap((m) => [`${m.prefix}_re`, `${m.prefix}_raddr`, `${m.prefix}_rdata`]));
    const poolConns = poolPorts.map((n, i) => ({ name: n, expr: poolNet[n] ?? (memPin.has(n) ? n : `p_${n}`), sep: i === poolPorts.length - 1 ? "" : "," }));
    const ctx = {
      tbsModule,
      module: p.module,
      poolModule: pool.module,
      prefix: sh.prefix,
      L: r.L,
      cycleLimit: limit,
      cycLast: 9 * r.L - 1,
      rowsLast: p.geo.rows - 1,
      uLast: p.umem.depth - 1,
      DMsb: r.D - 1,
      uWordMsb: p.umem.width - 1,
      uWordBits: p.umem.width,
      FMsb: r.F - 1,
      mmWordMsb: p.memories.find((m) => m.prefix === "mmem")!.mem.width - 1,
      wires: [
        ...p.ports.filter((q) => !["clk", "rst", "start"].includes(q.name)).map((q) => ({ name: q.name, range: q.width > 1 ? `[${q.width - 1}:0] ` : "" })),
        ...pool.memories.flatMap((m) => [
          { name: `${m.prefix}_re`, range: "" },
          { name: `${m.prefix}_raddr`, range: `[${m.mem.addrBits - 1}:0] ` },
          { name: `${m.prefix}_rdata`, range: `[${m.mem.width - 1}:0] ` },
        ]),
        { name: "pool_busy", range: "" },
        { name: "pool_out_last", range: "" },
        { name: "pool_class", range: "[2:0] " },
      ],
      conns: p.ports.map((q, i) => ({ name: q.name, expr: q.name, sep: i === p.ports.length - 1 ? "" : "," })),
      poolConns,
      mems: [...p.memories, ...pool.memories].map((m) => ({ module: m.mem.module, prefix: m.prefix, rw: m.access === "rw", aw: m.mem.addrBits, w: m.mem.width })),
      umemModule: p.umem.module,
    };
    files.push({ path: `${tbsModule}.v`, kind: "tb", content: renderFile(path.join(here, "dataflow_tb.v.hbs"), ctx) });
    return { tbsModule };
  });
  files.push({ path: `${tbModule}.v`, kind: "tb", content: renderFile(path.join(here, "dataflow_tb_top.v.hbs"), { tbModule, shapes: subs, timeoutNs: 2 * worstNs + 100000 }) });
  return files;
}

// ---------------------------------------------------------------------------------------------
// Stimulus

export interface DataflowCase {
  shape: DataflowTbShape;
  model: Model;
  U0: T3;
  /** expected trace (blocks.{b}.{s0,q,k,v,o,u1,s1,sel,u2}); default: runGolden's */
  trace?: Record<string, T3>;
}

export interface DataflowCaseInfo {
  stats: GoldenStats;
  /** U1 + sum of y_e of every block, exact (the merge accumulators before saturation) */
  merged: T3[];
  /** LIF_h spikes of every routed (row, expert) per block: [block][expert] -> row order list */
  trace: Record<string, T3>;
  /** outputs saturated by sat_accBits (any linear layer) / U + Lin_o or the merge saturated by residBits */
  accSat: number;
  residSat: number;
}

/**
 * The merge accumulators U1 + sum over selected e of y_e (exact, before the one saturation) of
 * every block, recomputed from the model as the golden model computes y (SPEC 1.3), plus how many
 * linear outputs and residual values saturate (to show a data set exercises the clamps).
 */
export function mergeSums(r: Resolved, model: Model, trace: Record<string, T3>): { merged: T3[]; accSat: number; residSat: number; hidden: [number, number[]][][][] } {
  const { T, N, D, F, E, accBits, residBits } = r;
  const merged: T3[] = [];
  // per block, per expert with routed rows (in order): [row address {t, n}, hidden spikes]
  const hidden: [number, number[]][][][] = [];
  const nBits = Math.max(1, Math.ceil(Math.log2(N)));
  let accSat = 0;
  let residSat = 0;
  const hi = maxS(accBits);
  const lo = minS(accBits);
  const rawLinear = (s: number[], w: number[][], b: number[]) => w.map((row, o) => row.reduce((a, x, c) => a + (s[c] ? x : 0), b[o]));
  for (let b = 0; b < r.L; b++) {
    const tr = (s: string) => trace[`blocks.${b}.${s}`];
    const U1 = tr("u1");
    const S1 = tr("s1");
    const sel = tr("sel");
    const acc = U1.map((Ut) => Ut.map((u) => u.slice()));
    const bw = model.blocks[b];
    for (const name of ["q", "k", "v", "o"] as const) {
      const S = name === "o" ? tr("o") : tr("s0");
      for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) for (const v of rawLinear(S[t][n], bw[name].weight, bw[name].bias)) if (v > hi || v < lo) accSat++;
    }
    const hb: [number, number[]][][] = [];
    for (let e = 0; e < E; e++) {
      const ew = bw.experts[e];
      const rowsE: [number, number[]][] = [];
      const W = [...Array(N)].map(() => new Array<number>(F).fill(0));
      for (let t = 0; t < T; t++)
        for (let n = 0; n < N; n++) {
          if (!sel[t][n][e]) continue;
          const h = linear(S1[t][n], ew.fc1.weight, ew.fc1.bias, accBits);
          for (const v of rawLinear(S1[t][n], ew.fc1.weight, ew.fc1.bias)) if (v > hi || v < lo) accSat++;
          const hd = new Array<number>(F);
          for (let f = 0; f < F; f++) {
            const res = lifStep(W[n][f], h[f], r.lif.hidden);
            W[n][f] = res.W;
            hd[f] = res.S;
          }
          rowsE.push([(t << nBits) | n, hd]);
          for (const v of rawLinear(hd, ew.fc2.weight, ew.fc2.bias)) if (v > hi || v < lo) accSat++;
          const y = linear(hd, ew.fc2.weight, ew.fc2.bias, accBits);
          for (let c = 0; c < D; c++) acc[t][n][c] += y[c];
        }
      if (rowsE.length) hb.push(rowsE);
    }
    hidden.push(hb);
    for (const At of acc) for (const a of At) for (const x of a) if (x > maxS(residBits) || x < minS(residBits)) residSat++;
    merged.push(acc);
  }
  return { merged, accSat, residSat, hidden };
}

function randBig(rng: Prng, width: number): bigint {
  let v = 0n;
  for (let b = 0; b < width; b += 16) v = (v << 16n) | BigInt(rng.int(0, 0xffff));
  return v & ((1n << BigInt(width)) - 1n);
}

function rowWord(bits: number[]): bigint {
  let v = 0n;
  for (let c = bits.length - 1; c >= 0; c--) v = (v << 1n) | BigInt(bits[c] ? 1 : 0);
  return v;
}

/**
 * Write every file the sub-testbench of `c.shape` reads for one data set; returns the golden
 * statistics (for the cycle model and the counters) and the merge sums.
 */
export function writeDataflowCase(dir: string, c: DataflowCase, seed: number): DataflowCaseInfo {
  fs.mkdirSync(dir, { recursive: true });
  const { r, p, pool, prefix } = c.shape;
  const g = p.geo;
  const rng = new Prng(seed * 7919 + 17);
  const gold = runGolden(r, c.model, c.U0);
  const trace = c.trace ?? gold.trace;
  const file = (name: string) => path.join(dir, `${prefix}.${name}.hex`);
  const write = (name: string, words: bigint[], width: number) => fs.writeFileSync(file(name), words.map((w) => hexOf(w, width)).join("\n") + "\n");

  // host-written memories
  const img = dataflowImages(r, g, c.model);
  const wrMem = p.memories.find((m) => m.prefix === "wr")!.mem;
  const brMem = p.memories.find((m) => m.prefix === "br")!.mem;
  img.wp.forEach((words, b) => write(`wp${b}`, words, pool.memories[b].mem.width));
  write("bp", img.bp, pool.memories.find((m) => m.prefix === "bp")!.mem.width);
  write("wr", img.wr, wrMem.width);
  write("br", img.br, brMem.width);

  // the other memories: junk (nothing may depend on it)
  for (const m of p.memories.filter((x) => !x.hostWritable)) {
    const init = [...Array(m.mem.depth)].map(() => randBig(rng, m.mem.width));
    write(m.prefix, init, m.mem.width);
    (m as { init?: bigint[] }).init = init;
  }
  const initOf = (prefix: string) => (p.memories.find((m) => m.prefix === prefix) as unknown as { init: bigint[] }).init;

  // umem: U0 with junk in padding lanes and hole rows; the junk of padding lanes survives every block
  const P = g.P;
  const junkU = new Map<number, number>();
  const ju = (addr: number, lane: number) => {
    const k = addr * P + lane;
    if (!junkU.has(k)) junkU.set(k, rng.int(minS(p.residBits), maxS(p.residBits)));
    return junkU.get(k)!;
  };
  const holeU = [...Array(g.uDepth)].map(() => randBig(rng, P * p.residBits));
  const mmemInit = initOf("mmem");
  // a row-major memory image of a [T][N][D] tensor: rows outside T x N keep `hole`, lanes past D get junk
  const rowImage = (X: T3, hole: (a: number) => bigint, bits: number) => {
    const out: bigint[] = [];
    for (let row = 0; row < g.rows; row++) {
      const t = row >> g.nBits;
      const n = row & ((1 << g.nBits) - 1);
      for (let j = 0; j < g.tilesD; j++) {
        const a = row * g.tilesD + j;
        if (n >= g.N || t >= g.T) out.push(hole(a));
        else out.push(packLanes([...Array(P).keys()].map((l) => (j * P + l < g.D ? X[t][n][j * P + l] : ju(a, l))), bits));
      }
    }
    return out;
  };
  const umemImage = (U: T3) => rowImage(U, (a) => holeU[a], p.residBits);
  const mmemImage = (X: T3) => rowImage(X, (a) => mmemInit[a], p.mergeBits);
  write("umem", umemImage(c.U0), P * p.residBits);

  const rowsImage = (S: T3, init: bigint[]) =>
    init.map((w, row) => {
      const t = row >> g.nBits;
      const n = row & ((1 << g.nBits) - 1);
      return n < g.N && t < g.T ? rowWord(S[t][n]) : w;
    });
  const { merged, accSat, residSat, hidden } = mergeSums(r, c.model, trace);
  // hbuf after each expert job: the expert's routed rows hold its hidden spikes, others what was there
  let hb = initOf("hbuf").slice();
  for (let b = 0; b < r.L; b++)
    hidden[b].forEach((rowsOfE, x) => {
      hb = hb.slice();
      for (const [row, bits] of rowsOfE) hb[row] = rowWord(bits);
      write(`b${b}.x${x}.h`, hb, g.F);
    });
  for (let b = 0; b < r.L; b++) {
    const tr = (s: string) => trace[`blocks.${b}.${s}`];
    write(`b${b}.s0`, rowsImage(tr("s0"), initOf("sbuf")), g.D);
    write(`b${b}.q`, rowsImage(tr("q"), initOf("qbuf")), g.D);
    write(`b${b}.k`, rowsImage(tr("k"), initOf("kbuf")), g.D);
    write(`b${b}.v`, rowsImage(tr("v"), initOf("vbuf")), g.D);
    write(`b${b}.o`, rowsImage(tr("o"), initOf("sbuf")), g.D);
    write(`b${b}.s1`, rowsImage(tr("s1"), initOf("sbufm")), g.D);
    write(`b${b}.u1`, mmemImage(tr("u1")), P * p.mergeBits);
    write(`b${b}.u2`, mmemImage(merged[b]), P * p.mergeBits);
    if (b > 0) write(`b${b}.u`, umemImage(trace[`blocks.${b - 1}.u2`]), P * p.residBits);
  }
  write(`b${r.L}.u`, umemImage(trace[`blocks.${r.L - 1}.u2`]), P * p.residBits);

  // expected counters (cumulative over the inference)
  const st = gold.stats;
  const sum = (f: (s: GoldenStats["perLayer"][number]) => number) => st.perLayer.reduce((a, s) => a + f(s), 0);
  const meta = [
    sum((s) => s.syn.q + s.syn.k + s.syn.v + s.syn.o),
    sum((s) => s.syn.fc1 + s.syn.fc2),
    sum((s) => s.syn.router),
    st.spikes,
    sum((s) => s.spikes.o),
    sum((s) => s.spikes.s1),
    sum((s) => s.spikes.h),
    st.routed,
  ];
  write("meta", meta.map((x) => BigInt(x)), 64);
  return { stats: st, merged, trace, accSat, residSat };
}
