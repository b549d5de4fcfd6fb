/**
 * attnHalf — the attention half of one encoder block (SPEC.md §1.3 up to U1), run once per
 * block b:
 *   S0 = LIF_a(U); Q, K, V = LIF_q/k/v(Lin_q/k/v(S0)); O = attention(Q, K, V);
 *   U1 = sat_residBits(U + Lin_o(O)), written in place over U (the shared umem).
 * One linearEngine (fan-in D, P lanes, G-row groups) runs q, k, v, o one after the other;
 * one lifArray (shortcut family) for LIF_a, one (qkv family) reused for LIF_q, LIF_k, LIF_v;
 * one attentionUnit (lifSets = 1) per timestep.  No memory inside: every memory the half owns
 * is reached through logical-memory pins (p.memories), the residual stream through the u_*
 * client port of the top's umem.
 * Template: ./attnHalf.v.hbs.  Testbench: ./attnHalf_tb.v.hbs + ./testbench.ts.  Tests:
 * ./attnHalf.test.ts.  Micro-architecture: docs/ARCHITECTURE.md "## attnHalf".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog, sext, vlit, zext, type GeneratedFile } from "../../render/render.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, maxS, minS } from "../../util/bits.ts";
import type { Model } from "../../model/golden.ts";
import { attentionCycles, attentionParams, renderAttention, type AttentionParams } from "../attentionCore/attentionCore.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearCycles, linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import { logicalMemory, type LogicalMemory } from "../memory/ram1r1w.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** A memory the half owns, reached through the pins `<prefix>_*`. */
export interface AttnHalfMemory {
  mem: LogicalMemory;
  prefix: string;
  /** "rw": the half drives both halves of the pins; "read": only re/raddr/rdata (the host writes it) */
  access: "rw" | "read";
  /** the host loads it (weights, biases): the top drives its write port */
  hostWritable: boolean;
  role: string;
}

export interface AttnHalfPort {
  name: string;
  dir: "input" | "output";
  width: number;
}

/** The linear layers of the half, in run order; `index` is l in the weight/bias addresses. */
export const ATTN_LAYERS = ["q", "k", "v", "o"] as const;

/** Values of the `phase` output. */
export const ATTN_PHASES = { idle: 0, lifA: 1, q: 2, k: 3, v: 4, attention: 5, o: 6 } as const;
export type AttnPhaseName = Exclude<keyof typeof ATTN_PHASES, "idle">;
export const ATTN_PHASE_NAMES: AttnPhaseName[] = ["lifA", "q", "k", "v", "attention", "o"];

export interface AttnHalfParams {
  module: string;
  T: number;
  N: number;
  D: number;
  L: number;
  /** P, engine lanes = LIF lanes = lanes of a umem word */
  lanes: number;
  /** G, engine token group */
  group: number;
  /** ceil(D / P) */
  tilesD: number;
  /** row address {t, n}: n field nBits = idxBits(N), t field tRowBits (0 when T = 1), rowBits in all */
  nBits: number;
  tRowBits: number;
  rowBits: number;
  /** rows of every row buffer: T << nBits (rows with n >= N are never touched) */
  rows: number;
  /** cfg_block width */
  blockBits: number;
  /** tile-index width (engine out_tile) */
  tileBits: number;
  /** umem client port: word = P lanes x residBits, address row*tilesD + j */
  uAddrBits: number;
  uWordBits: number;
  residBits: number;
  accBits: number;
  /** weight memory: word ((b*4 + l)*tilesD + j)*D + c; bias memory: word (b*4 + l)*tilesD + j */
  wDepth: number;
  bDepth: number;
  wAddrBits: number;
  bAddrBits: number;
  wWordBits: number;
  bWordBits: number;
  /** address strides of a block and of a layer in the weight / bias memories */
  wBlockStride: number;
  wLayerStride: number;
  bBlockStride: number;
  bLayerStride: number;
  engine: LinearEngineParams;
  lifA: LifArrayParams;
  lifQkv: LifArrayParams;
  attn: AttentionParams;
  /** every memory the half owns, in port order */
  memories: AttnHalfMemory[];
  /** the shared residual memory the u_* port expects (instantiated and muxed by the top, not owned) */
  umem: LogicalMemory;
}

export function attnHalfParams(r: Resolved): AttnHalfParams {
  const { T, N, D, L } = r;
  const P = r.hw.linearLanes;
  const G = r.hw.tokenGroup;
  const tilesD = Math.ceil(D / P);
  const nBits = idxBits(N);
  const rows = T << nBits;
  const rowBits = idxBits(rows);
  const tRowBits = rowBits - nBits;
  const wDepth = L * 4 * tilesD * D;
  const bDepth = L * 4 * tilesD;
  const engine = linearEngineParams(r, "attn", { inMax: D, tilesMax: tilesD, tagBits: rowBits, wDepth, bDepth, lanes: P, group: G });
  // one state word per (token, tile): neurons N * tilesD * P (lanes beyond D are padding)
  const lifA = lifArrayParams(r, r.lif.shortcut, "a", N * tilesD * P, P);
  const lifQkv = lifArrayParams(r, r.lif.qkv, "qkv", N * tilesD * P, P);
  const attn = attentionParams(r, { lifSets: 1 });
  if (attn.rowBits !== rowBits || attn.ioRows !== rows) throw new Error("attnHalf: attention unit row addressing differs from the half's");
  const name = r.name;
  const spikes = (prefix: string, role: string): AttnHalfMemory => ({
    mem: logicalMemory(`${name}_attn_${prefix}`, role, rows, D, { kind: "spikes", ports: "1rw" }),
    prefix,
    access: "rw",
    hostWritable: false,
    role,
  });
  const memories: AttnHalfMemory[] = [
    spikes("sbuf", "S0 spikes, then O spikes (rows {t,n} x D)"),
    spikes("qbuf", "Q spikes (rows {t,n} x D)"),
    spikes("kbuf", "K spikes (rows {t,n} x D)"),
    spikes("vbuf", "V spikes (rows {t,n} x D)"),
    {
      mem: logicalMemory(`${name}_attn_wa`, "q/k/v/o weights of all blocks", wDepth, P * r.weightBits, { kind: "weights", ports: "1rw" }),
      prefix: "wa",
      access: "read",
      hostWritable: true,
      role: "weights of q, k, v, o, all blocks: word ((b*4+l)*tilesD + j)*D + c, lane i = weight[j*P+i][c]",
    },
    {
      mem: logicalMemory(`${name}_attn_ba`, "q/k/v/o biases of all blocks", bDepth, P * r.biasBits, { kind: "weights", ports: "1rw" }),
      prefix: "ba",
      access: "read",
      hostWritable: true,
      role: "biases of q, k, v, o, all blocks: word (b*4+l)*tilesD + j, lane i = bias[j*P+i]",
    },
    { mem: { ...lifA.mem, kind: "state" }, prefix: "lifa", access: "rw", hostWritable: false, role: "LIF_a membrane state, word n*tilesD + j" },
    { mem: { ...lifQkv.mem, kind: "state" }, prefix: "lifqkv", access: "rw", hostWritable: false, role: "LIF_q/k/v membrane state (one layer at a time), word n*tilesD + j" },
    ...attn.memPorts.map((m) => ({
      mem: { ...m.mem, kind: "state" as const },
      prefix: m.prefix,
      access: "rw" as const,
      hostWritable: false,
      role: `LIF_attn membrane state of attention core ${m.prefix.slice(2)}`,
    })),
  ];
  const uDepth = rows * tilesD;
  const umem = logicalMemory(`${name}_umem`, "residual stream U (rows {t,n} x tilesD words of P lanes)", uDepth, P * r.residBits, { kind: "residual" });
  return {
    module: `${name}_attnHalf`,
    T,
    N,
    D,
    L,
    lanes: P,
    group: G,
    tilesD,
    nBits,
    tRowBits,
    rowBits,
    rows,
    blockBits: idxBits(L),
    tileBits: engine.tileIdxBits,
    uAddrBits: umem.addrBits,
    uWordBits: umem.width,
    residBits: r.residBits,
    accBits: r.accBits,
    wDepth,
    bDepth,
    wAddrBits: engine.wAddrBits,
    bAddrBits: engine.bAddrBits,
    wWordBits: engine.wWordBits,
    bWordBits: engine.bWordBits,
    wBlockStride: 4 * tilesD * D,
    wLayerStride: tilesD * D,
    bBlockStride: 4 * tilesD,
    bLayerStride: tilesD,
    engine,
    lifA,
    lifQkv,
    attn,
    memories,
    umem,
  };
}

/** Every port of the module, in declaration order. */
export function attnHalfPorts(p: AttnHalfParams): AttnHalfPort[] {
  const ports: AttnHalfPort[] = [
    { name: "clk", dir: "input", width: 1 },
    { name: "rst", dir: "input", width: 1 },
    { name: "start", dir: "input", width: 1 },
    { name: "cfg_block", dir: "input", width: p.blockBits },
    { name: "busy", dir: "output", width: 1 },
    { name: "done", dir: "output", width: 1 },
    { name: "phase", dir: "output", width: 3 },
    { name: "perf_syn", dir: "output", width: 64 },
    { name: "perf_spk", dir: "output", width: 64 },
    { name: "perf_spk_o", dir: "output", width: 64 },
    { name: "u_re", dir: "output", width: 1 },
    { name: "u_raddr", dir: "output", width: p.uAddrBits },
    { name: "u_rdata", dir: "input", width: p.uWordBits },
    { name: "u_we", dir: "output", width: 1 },
    { name: "u_waddr", dir: "output", width: p.uAddrBits },
    { name: "u_wdata", dir: "output", width: p.uWordBits },
  ];
  for (const m of p.memories) {
    const a = m.mem.addrBits;
    const w = m.mem.width;
    ports.push(
      { name: `${m.prefix}_re`, dir: "output", width: 1 },
      { name: `${m.prefix}_raddr`, dir: "output", width: a },
      { name: `${m.prefix}_rdata`, dir: "input", width: w },
    );
    if (m.access === "rw")
      ports.push(
        { name: `${m.prefix}_we`, dir: "output", width: 1 },
        { name: `${m.prefix}_waddr`, dir: "output", width: a },
        { name: `${m.prefix}_wdata`, dir: "output", width: w },
        { name: `${m.prefix}_wmask`, dir: "output", width: w },
      );
  }
  return ports;
}

// ---------------------------------------------------------------------------------------------
// Cycle model

/** Cycles of the LIF_a phase beyond one per U word (read, LIF 2 stages, write). */
export const ATTN_LIFA_DRAIN = 3;
/**
 * Cycles of a linear-layer phase beyond linearCycles(): 1 (the first row reaches the engine one
 * cycle after it entered COLLECT: row read + row FIFO) + 2 (done pulse -> the last output's
 * LIF / umem write).
 */
export const ATTN_LAYER_EXTRA = 3;

export interface AttnHalfCycles {
  lifA: number;
  q: number;
  k: number;
  v: number;
  attention: number;
  o: number;
  /** from the edge that samples start to the edge that raises done */
  total: number;
}

/**
 * Exact cycles of one run (data dependent through the engine only):
 *   lifA      = T*N*tilesD + 3
 *   q = k = v = linearCycles(S0 row spikes, tilesD, G) + 3
 *   attention = T * (attentionCycles + 2)   (start pulse after done, one run per timestep)
 *   o         = linearCycles(O row spikes, tilesD, G) + 3
 * @param s0Rows spikes of every S0 row (t-major, rows n < N only), channels < D
 * @param oRows  the same for O
 */
export function attnHalfCycles(p: AttnHalfParams, s0Rows: number[], oRows: number[]): AttnHalfCycles {
  const TN = p.T * p.N;
  if (s0Rows.length !== TN || oRows.length !== TN) throw new Error(`attnHalfCycles: expected ${TN} rows of S0 and O`);
  const lifA = TN * p.tilesD + ATTN_LIFA_DRAIN;
  const lay = (rows: number[]) => linearCycles(rows, p.tilesD, p.group) + ATTN_LAYER_EXTRA;
  const q = lay(s0Rows);
  const attention = p.T * (attentionCycles(p.attn) + 2);
  const o = lay(oRows);
  return { lifA, q, k: q, v: q, attention, o, total: lifA + 3 * q + attention + o };
}

/** An upper bound of attnHalfCycles over all data (every S0 and O bit 1). */
export function attnHalfCycleBound(p: AttnHalfParams): number {
  const full = new Array<number>(p.T * p.N).fill(p.D);
  return attnHalfCycles(p, full, full).total;
}

// ---------------------------------------------------------------------------------------------
// Rendering

export function attnHalfContext(p: AttnHalfParams) {
  const P = p.lanes;
  const hasT = p.tRowBits > 0;
  const ul = (w: number, v: number) => `${w}'d${v}`;
  // constant factor of a product truncated to w bits: (x * k) mod 2^w = (x * (k mod 2^w)) mod 2^w.
  // k only reaches 2^w when x can only be 0 (N = 1, L = 1), so the literal always fits.
  const kl = (w: number, k: number) => ul(w, Number(BigInt(k) % (1n << BigInt(w))));
  const rowOf = (t: string, n: string) => (hasT ? `{${t}, ${n}}` : n);
  const uAddr = (row: string, tile: string) => `${zext(row, p.rowBits, p.uAddrBits)} * ${kl(p.uAddrBits, p.tilesD)} + ${zext(tile, p.tileBits, p.uAddrBits)}`;
  const la = p.lifA.addrBits;
  const lifAddr = (n: string, tile: string) => `${zext(n, p.nBits, la)} * ${kl(la, p.tilesD)} + ${zext(tile, p.tileBits, la)}`;
  const tiles = [...Array(p.tilesD).keys()].map((j) => {
    const w = Math.min(P, p.D - j * P);
    return { j, lsb: j * P, w, wMsb: w - 1, jLit: ul(p.tileBits, j) };
  });
  const lastW = p.D - (p.tilesD - 1) * P;
  const sumBits = Math.max(p.residBits, p.accBits) + 1;
  const syn = adderTree(busBits("syn_row", p.D), "syn_pc");
  const spk = adderTree(busBits("spk_bits", P), "spk_pc");
  const ospk = adderTree(busBits("ospk_bits", p.D), "ospk_pc");
  const e = p.engine;
  const memPorts = p.memories.map((m) => ({ ...m, rw: m.access === "rw", addrMsb: m.mem.addrBits - 1, widthMsb: m.mem.width - 1 }));
  const ports = attnHalfPorts(p);
  return {
    ...p,
    engineModule: e.module,
    lifAModule: p.lifA.module,
    lifQkvModule: p.lifQkv.module,
    unitModule: p.attn.unitModule,
    ssa: p.attn.mode === "ssa",
    portDecls: ports.map((q, i) => ({
      decl: `${q.dir === "input" ? "input " : "output"} wire ${q.width > 1 ? `[${q.width - 1}:0] ` : ""}${q.name}`,
      sep: i === ports.length - 1 ? "" : ",",
    })),
    memPorts,
    laPorts: p.attn.memPorts.map((m) => ({ prefix: m.prefix })),
    hasT,
    tMsb: Math.max(p.tRowBits, 1) - 1,
    nMsb: p.nBits - 1,
    rowMsb: p.rowBits - 1,
    tileMsb: p.tileBits - 1,
    blkMsb: p.blockBits - 1,
    uAddrMsb: p.uAddrBits - 1,
    uWordMsb: p.uWordBits - 1,
    DMsb: p.D - 1,
    PMsb: P - 1,
    laMsb: la - 1,
    wAddrMsb: p.wAddrBits - 1,
    bAddrMsb: p.bAddrBits - 1,
    attTMsb: p.attn.tBits - 1,
    residMsb: p.residBits - 1,
    accMsb: p.accBits - 1,
    sumMsb: sumBits - 1,
    accBusMsb: P * p.accBits - 1,
    lit: {
      nLast: ul(p.nBits, p.N - 1),
      tLast: ul(Math.max(p.tRowBits, 1), p.T - 1),
      t0: ul(Math.max(p.tRowBits, 1), 0),
      t1: ul(Math.max(p.tRowBits, 1), 1),
      n0: ul(p.nBits, 0),
      n1: ul(p.nBits, 1),
      tile0: ul(p.tileBits, 0),
      tile1: ul(p.tileBits, 1),
      tileLast: ul(p.tileBits, p.tilesD - 1),
      attTLast: ul(p.attn.tBits, p.T - 1),
      attT0: ul(p.attn.tBits, 0),
      attT1: ul(p.attn.tBits, 1),
      fanin: ul(e.faninBits, p.D),
      tiles: ul(e.tilesBits, p.tilesD),
      wOff: [0, 1, 2, 3].map((l) => ul(p.wAddrBits, l * p.wLayerStride)),
      bOff: [0, 1, 2, 3].map((l) => ul(p.bAddrBits, l * p.bLayerStride)),
      laneAll: `{${P}{1'b1}}`,
      laneLast: `${P}'h${((1n << BigInt(lastW)) - 1n).toString(16)}`,
      residMax: vlit(p.residBits, maxS(p.residBits)),
      residMin: vlit(p.residBits, minS(p.residBits)),
      sumMax: vlit(sumBits, maxS(p.residBits)),
      sumMin: vlit(sumBits, minS(p.residBits)),
    },
    partialLast: lastW !== P,
    aRow: rowOf("a_t", "a_n"),
    sRow: rowOf("s_t", "s_n"),
    aLast: `(a_n == ${ul(p.nBits, p.N - 1)}) && (a_j == ${ul(p.tileBits, p.tilesD - 1)})${hasT ? ` && (a_t == ${ul(p.tRowBits, p.T - 1)})` : ""}`,
    sLast: `(s_n == ${ul(p.nBits, p.N - 1)})${hasT ? ` && (s_t == ${ul(p.tRowBits, p.T - 1)})` : ""}`,
    aFirst: hasT ? `(a_t == ${ul(p.tRowBits, 0)})` : "1'b1",
    qFirst: hasT ? `(le_out_tag[${p.rowBits - 1}:${p.nBits}] == ${ul(p.tRowBits, 0)})` : "1'b1",
    aUaddr: uAddr(rowOf("a_t", "a_n"), "a_j"),
    oUaddr: uAddr("le_out_tag", "le_out_tile"),
    aLifAddr: lifAddr("a_n1", "a_j1"),
    qLifAddr: lifAddr(`le_out_tag[${p.nBits - 1}:0]`, "le_out_tile"),
    wblk: `${zext("cfg_block", p.blockBits, p.wAddrBits)} * ${kl(p.wAddrBits, p.wBlockStride)}`,
    bblk: `${zext("cfg_block", p.blockBits, p.bAddrBits)} * ${kl(p.bAddrBits, p.bBlockStride)}`,
    tiles,
    sextU: sext("uu", p.residBits, sumBits),
    sextLo: sext("lo", p.accBits, sumBits),
    syn,
    synInc: `${zext(syn.root.expr, syn.root.bits, 64)} * 64'd${p.D}`,
    spk,
    spkInc: zext(spk.root.expr, spk.root.bits, 64),
    ospk,
    ospkInc: zext(ospk.root.expr, ospk.root.bits, 64),
  };
}

/** The half and every submodule (engine, LIF arrays, attention unit and core, LIF_attn array); no memory. */
export function renderAttnHalf(r: Resolved, p: AttnHalfParams): GeneratedFile[] {
  return [
    renderVerilog(r, path.join(here, "attnHalf.v.hbs"), `${p.module}.v`, `attention half of an encoder block (${p.attn.mode})`, attnHalfContext(p)),
    ...renderLinearEngine(r, p.engine),
    ...renderLifArray(r, p.lifA),
    ...renderLifArray(r, p.lifQkv),
    ...renderAttention(r, p.attn),
  ];
}

// ---------------------------------------------------------------------------------------------
// Memory images

function packLanes(values: number[], width: number): bigint {
  let acc = 0n;
  const mask = (1n << BigInt(width)) - 1n;
  for (let i = values.length - 1; i >= 0; i--) acc = (acc << BigInt(width)) | (BigInt(values[i]) & mask);
  return acc;
}

/**
 * Contents of the weight and bias memories (module name -> words, index = address) for a model:
 * wa word ((b*4 + l)*tilesD + j)*D + c, lane i = weight_l[j*P+i][c]; ba word (b*4 + l)*tilesD + j,
 * lane i = bias_l[j*P+i]; lanes beyond D are 0 (so padding lanes of U1 keep U).
 */
export function attnHalfImage(r: Resolved, p: AttnHalfParams, model: Model): Map<string, bigint[]> {
  if (model.blocks.length !== p.L) throw new Error(`attnHalfImage: model has ${model.blocks.length} blocks, config says ${p.L}`);
  const P = p.lanes;
  const wa: bigint[] = new Array(p.wDepth).fill(0n);
  const ba: bigint[] = new Array(p.bDepth).fill(0n);
  model.blocks.forEach((bw, b) => {
    ATTN_LAYERS.forEach((name, l) => {
      const lw = bw[name];
      for (let j = 0; j < p.tilesD; j++) {
        const ch = [...Array(P).keys()].map((i) => j * P + i);
        ba[(b * 4 + l) * p.tilesD + j] = packLanes(ch.map((o) => (o < p.D ? lw.bias[o] : 0)), r.biasBits);
        for (let c = 0; c < p.D; c++) wa[((b * 4 + l) * p.tilesD + j) * p.D + c] = packLanes(ch.map((o) => (o < p.D ? lw.weight[o][c] : 0)), r.weightBits);
      }
    });
  });
  const wMem = p.memories.find((m) => m.prefix === "wa")!.mem;
  const bMem = p.memories.find((m) => m.prefix === "ba")!.mem;
  return new Map([
    [wMem.module, wa],
    [bMem.module, ba],
  ]);
}

/**
 * umem image of a residual stream U ([T][N][D]): word row*tilesD + j ({t,n} = row), lane i =
 * U[t][n][j*P+i]; words of rows n >= N and lanes beyond D take `fill(address, lane)` (default 0).
 */
export function attnHalfUmemImage(p: AttnHalfParams, U: number[][][], fill: (addr: number, lane: number) => number = () => 0): bigint[] {
  const P = p.lanes;
  const out: bigint[] = [];
  for (let row = 0; row < p.rows; row++) {
    const t = row >> p.nBits;
    const n = row & ((1 << p.nBits) - 1);
    for (let j = 0; j < p.tilesD; j++) {
      const addr = row * p.tilesD + j;
      const lanes = [...Array(P).keys()].map((i) => (n < p.N && t < p.T && j * P + i < p.D ? U[t][n][j * P + i] : fill(addr, i)));
      out.push(packLanes(lanes, p.residBits));
    }
  }
  return out;
}

/** Read back a umem image into U ([T][N][D]), the inverse of attnHalfUmemImage on real lanes. */
export function attnHalfUmemDecode(p: AttnHalfParams, words: bigint[]): number[][][] {
  const P = p.lanes;
  const w = BigInt(p.residBits);
  const mask = (1n << w) - 1n;
  const U: number[][][] = [];
  for (let t = 0; t < p.T; t++) {
    const Ut: number[][] = [];
    for (let n = 0; n < p.N; n++) {
      const row = (t << p.nBits) | n;
      const u: number[] = [];
      for (let c = 0; c < p.D; c++) {
        const j = Math.floor(c / P);
        let v = (words[row * p.tilesD + j] >> (BigInt(c % P) * w)) & mask;
        if (v >> (w - 1n)) v -= 1n << w;
        u.push(Number(v));
      }
      Ut.push(u);
    }
    U.push(Ut);
  }
  return U;
}
