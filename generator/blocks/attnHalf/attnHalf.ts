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
import type { Geometry, Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { lowMask, ones, sext, slit, ulit, zext } from "../../render/verilog.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { packLanes, tilesOf, unpackLanes } from "../../util/lanes.ts";
import { idxBits, maxS, minS } from "../../util/bits.ts";
import type { Model } from "../../model/golden.ts";
import { attentionCycles, attentionParams, renderAttention, type AttentionParams } from "../attentionCore/attentionCore.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearCycles, linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import { logicalMemory, residualMemory, type LogicalMemory } from "../memory/ram1r1w.ts";
import { memoryPins, type Block, type BlockMemory, type PortDecl } from "../block.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The linear layers of the half, in run order; `index` is l in the weight/bias addresses. */
export const ATTN_LAYERS = ["q", "k", "v", "o"] as const;

/** Values of the `phase` output. */
export const ATTN_PHASES = { idle: 0, lifA: 1, q: 2, k: 3, v: 4, attention: 5, o: 6 } as const;
export type AttnPhaseName = Exclude<keyof typeof ATTN_PHASES, "idle">;
export const ATTN_PHASE_NAMES: AttnPhaseName[] = ["lifA", "q", "k", "v", "attention", "o"];

export interface AttnHalfParams {
  module: string;
  /**
   * the row and tile geometry (r.geo): rows {t, n} (geo.rowAddrBits bits, t field geo.tAddrBits,
   * 0 when T = 1), row buffers of geo.rows rows, P = geo.lanes lanes (engine, LIF arrays, umem
   * words), G = geo.group, geo.tilesD tiles
   */
  geo: Geometry;
  T: number;
  N: number;
  D: number;
  L: number;
  /** cfg_block width */
  blockBits: number;
  /** tile-index width (engine out_tile) */
  tileBits: number;
  residBits: number;
  accBits: number;
  /** width of U + Lin_o(O) before the one saturation: max(residBits, accBits) + 1 */
  sumBits: number;
  /** channels of the last tile: D - (tilesD - 1) * P (= P when P divides D) */
  lastTileWidth: number;
  /** weight memory: word ((b*4 + l)*tilesD + j)*D + c; bias memory: word (b*4 + l)*tilesD + j */
  wDepth: number;
  bDepth: number;
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
  memories: BlockMemory[];
  /** the shared residual memory the u_* port expects (instantiated and muxed by the top, not owned) */
  umem: LogicalMemory;
}

export function attnHalfParams(r: Resolved): AttnHalfParams {
  const { T, N, D, L } = r;
  const g = r.geo;
  const { lanes: P, group: G, tilesD, rows } = g;
  const wDepth = L * 4 * tilesD * D;
  const bDepth = L * 4 * tilesD;
  const engine = linearEngineParams(r, "attn", { inMax: D, tilesMax: tilesD, tagBits: g.rowAddrBits, wDepth, bDepth, lanes: P, group: G });
  // one state word per (token, tile): neurons N * tilesD * P (lanes beyond D are padding)
  const lifA = lifArrayParams(r, r.lif.shortcut, "a", N * tilesD * P, P);
  const lifQkv = lifArrayParams(r, r.lif.qkv, "qkv", N * tilesD * P, P);
  const attn = attentionParams(r, { lifSets: 1 });
  const name = r.name;
  const spikes = (prefix: string, role: string): BlockMemory => ({
    mem: logicalMemory(`${name}_attn_${prefix}`, role, rows, D, { kind: "spikes", ports: "1rw" }),
    prefix,
    access: "rw",
    hostWritable: false,
    role,
  });
  const memories: BlockMemory[] = [
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
    ...attn.memories,
  ];
  return {
    module: `${name}_attnHalf`,
    geo: g,
    T,
    N,
    D,
    L,
    blockBits: idxBits(L),
    tileBits: engine.tileIdxBits,
    residBits: r.residBits,
    accBits: r.accBits,
    sumBits: Math.max(r.residBits, r.accBits) + 1,
    lastTileWidth: D - (tilesD - 1) * P,
    wDepth,
    bDepth,
    wBlockStride: 4 * tilesD * D,
    wLayerStride: tilesD * D,
    bBlockStride: 4 * tilesD,
    bLayerStride: tilesD,
    engine,
    lifA,
    lifQkv,
    attn,
    memories,
    umem: residualMemory(r),
  };
}

/** Every port of the module, in declaration order. */
export function attnHalfPorts(p: AttnHalfParams): PortDecl[] {
  const ports: PortDecl[] = [
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
    { name: "u_raddr", dir: "output", width: p.umem.addrBits },
    { name: "u_rdata", dir: "input", width: p.umem.width },
    { name: "u_we", dir: "output", width: 1 },
    { name: "u_waddr", dir: "output", width: p.umem.addrBits },
    { name: "u_wdata", dir: "output", width: p.umem.width },
  ];
  for (const m of p.memories) ports.push(...memoryPins(m));
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
  const lifA = TN * p.geo.tilesD + ATTN_LIFA_DRAIN;
  const lay = (rows: number[]) => linearCycles(rows, p.geo.tilesD, p.geo.group) + ATTN_LAYER_EXTRA;
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
  const g = p.geo;
  const P = g.lanes;
  const hasT = g.tAddrBits > 0;
  const tW = Math.max(g.tAddrBits, 1);
  // constant factor of a product truncated to w bits: (x * k) mod 2^w = (x * (k mod 2^w)) mod 2^w.
  // k only reaches 2^w when x can only be 0 (N = 1, L = 1), so the literal always fits.
  const kl = (w: number, k: number) => ulit(w, BigInt(k) % (1n << BigInt(w)));
  const rowOf = (t: string, n: string) => (hasT ? `{${t}, ${n}}` : n);
  const uAW = p.umem.addrBits;
  const uAddr = (row: string, tile: string) => `${zext(row, g.rowAddrBits, uAW)} * ${kl(uAW, g.tilesD)} + ${zext(tile, p.tileBits, uAW)}`;
  const la = p.lifA.addrBits;
  const lifAddr = (n: string, tile: string) => `${zext(n, g.nBits, la)} * ${kl(la, g.tilesD)} + ${zext(tile, p.tileBits, la)}`;
  const tiles = tilesOf(p.D, P).map((t) => ({ lsb: t.lsb, w: t.w, wMsb: t.wMsb, jLit: ulit(p.tileBits, t.j) }));
  const sumBits = p.sumBits;
  const wires = (t: ReturnType<typeof adderTree>) => ({ nodes: t.nodes.map(({ name, msb, a, b }) => ({ name, msb, a, b })) });
  const syn = adderTree(busBits("syn_row", p.D), "syn_pc");
  const spk = adderTree(busBits("spk_bits", P), "spk_pc");
  const ospk = adderTree(busBits("ospk_bits", p.D), "ospk_pc");
  const e = p.engine;
  const ports = attnHalfPorts(p);
  return {
    module: p.module,
    T: p.T,
    N: p.N,
    D: p.D,
    lanes: P,
    tilesD: g.tilesD,
    nBits: g.nBits,
    tAddrBits: g.tAddrBits,
    residBits: p.residBits,
    accBits: p.accBits,
    wBlockStride: p.wBlockStride,
    wLayerStride: p.wLayerStride,
    bBlockStride: p.bBlockStride,
    bLayerStride: p.bLayerStride,
    attn: { mode: p.attn.mode },
    engineModule: e.module,
    lifAModule: p.lifA.module,
    lifQkvModule: p.lifQkv.module,
    unitModule: p.attn.unitModule,
    portDecls: ports.map((q, i) => ({
      decl: `${q.dir === "input" ? "input " : "output"} wire ${q.width > 1 ? `[${q.width - 1}:0] ` : ""}${q.name}`,
      sep: i === ports.length - 1 ? "" : ",",
    })),
    laPorts: p.attn.memories.map((m) => ({ prefix: m.prefix })),
    hasT,
    tMsb: tW - 1,
    nMsb: g.nBits - 1,
    rowMsb: g.rowAddrBits - 1,
    tileMsb: p.tileBits - 1,
    uAddrMsb: uAW - 1,
    uWordMsb: p.umem.width - 1,
    DMsb: p.D - 1,
    PMsb: P - 1,
    laMsb: la - 1,
    wAddrMsb: e.wAddrBits - 1,
    bAddrMsb: e.bAddrBits - 1,
    attTMsb: g.tBits - 1,
    residMsb: p.residBits - 1,
    accMsb: p.accBits - 1,
    sumMsb: sumBits - 1,
    accBusMsb: P * p.accBits - 1,
    lit: {
      nLast: ulit(g.nBits, p.N - 1),
      t0: ulit(tW, 0),
      t1: ulit(tW, 1),
      n0: ulit(g.nBits, 0),
      n1: ulit(g.nBits, 1),
      tile0: ulit(p.tileBits, 0),
      tile1: ulit(p.tileBits, 1),
      tileLast: ulit(p.tileBits, g.tilesD - 1),
      attTLast: ulit(g.tBits, p.T - 1),
      attT0: ulit(g.tBits, 0),
      attT1: ulit(g.tBits, 1),
      fanin: ulit(e.faninBits, p.D),
      tiles: ulit(e.tilesBits, g.tilesD),
      wOff: [0, 1, 2, 3].map((l) => ulit(e.wAddrBits, l * p.wLayerStride)),
      bOff: [0, 1, 2, 3].map((l) => ulit(e.bAddrBits, l * p.bLayerStride)),
      laneAll: ones(P),
      laneLast: lowMask(P, p.lastTileWidth),
      residMax: slit(p.residBits, maxS(p.residBits)),
      residMin: slit(p.residBits, minS(p.residBits)),
      sumMax: slit(sumBits, maxS(p.residBits)),
      sumMin: slit(sumBits, minS(p.residBits)),
    },
    partialLast: p.lastTileWidth !== P,
    aRow: rowOf("a_t", "a_n"),
    sRow: rowOf("s_t", "s_n"),
    aLast: `(a_n == ${ulit(g.nBits, p.N - 1)}) && (a_j == ${ulit(p.tileBits, g.tilesD - 1)})${hasT ? ` && (a_t == ${ulit(g.tAddrBits, p.T - 1)})` : ""}`,
    sLast: `(s_n == ${ulit(g.nBits, p.N - 1)})${hasT ? ` && (s_t == ${ulit(g.tAddrBits, p.T - 1)})` : ""}`,
    aFirst: hasT ? `(a_t == ${ulit(g.tAddrBits, 0)})` : "1'b1",
    qFirst: hasT ? `(le_out_tag[${g.rowAddrBits - 1}:${g.nBits}] == ${ulit(g.tAddrBits, 0)})` : "1'b1",
    aUaddr: uAddr(rowOf("a_t", "a_n"), "a_j"),
    oUaddr: uAddr("le_out_tag", "le_out_tile"),
    aLifAddr: lifAddr("a_n1", "a_j1"),
    qLifAddr: lifAddr(`le_out_tag[${g.nBits - 1}:0]`, "le_out_tile"),
    wblk: `${zext("cfg_block", p.blockBits, e.wAddrBits)} * ${kl(e.wAddrBits, p.wBlockStride)}`,
    bblk: `${zext("cfg_block", p.blockBits, e.bAddrBits)} * ${kl(e.bAddrBits, p.bBlockStride)}`,
    tiles,
    sextU: sext("uu", p.residBits, sumBits),
    sextLo: sext("lo", p.accBits, sumBits),
    syn: wires(syn),
    synInc: `${zext(syn.root.expr, syn.root.bits, 64)} * ${ulit(64, p.D)}`,
    spk: wires(spk),
    spkInc: zext(spk.root.expr, spk.root.bits, 64),
    ospk: wires(ospk),
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

/**
 * Contents of the weight and bias memories (module name -> words, index = address) for a model:
 * wa word ((b*4 + l)*tilesD + j)*D + c, lane i = weight_l[j*P+i][c]; ba word (b*4 + l)*tilesD + j,
 * lane i = bias_l[j*P+i]; lanes beyond D are 0 (so padding lanes of U1 keep U).
 */
export function attnHalfImage(r: Resolved, p: AttnHalfParams, model: Model): Map<string, bigint[]> {
  if (model.blocks.length !== p.L) throw new Error(`attnHalfImage: model has ${model.blocks.length} blocks, config says ${p.L}`);
  const { lanes: P, tilesD } = p.geo;
  const wa: bigint[] = new Array(p.wDepth).fill(0n);
  const ba: bigint[] = new Array(p.bDepth).fill(0n);
  model.blocks.forEach((bw, b) => {
    ATTN_LAYERS.forEach((name, l) => {
      const lw = bw[name];
      for (let j = 0; j < tilesD; j++) {
        const ch = [...Array(P).keys()].map((i) => j * P + i);
        ba[(b * 4 + l) * tilesD + j] = packLanes(ch.map((o) => (o < p.D ? lw.bias[o] : 0)), r.biasBits);
        for (let c = 0; c < p.D; c++) wa[((b * 4 + l) * tilesD + j) * p.D + c] = packLanes(ch.map((o) => (o < p.D ? lw.weight[o][c] : 0)), r.weightBits);
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
  const { lanes: P, nBits, rows, tilesD } = p.geo;
  const out: bigint[] = [];
  for (let row = 0; row < rows; row++) {
    const t = row >> nBits;
    const n = row & ((1 << nBits) - 1);
    for (let j = 0; j < tilesD; j++) {
      const addr = row * tilesD + j;
      const lanes = [...Array(P).keys()].map((i) => (n < p.N && t < p.T && j * P + i < p.D ? U[t][n][j * P + i] : fill(addr, i)));
      out.push(packLanes(lanes, p.residBits));
    }
  }
  return out;
}

/** Read back a umem image into U ([T][N][D]), the inverse of attnHalfUmemImage on real lanes. */
export function attnHalfUmemDecode(p: AttnHalfParams, words: bigint[]): number[][][] {
  const { lanes: P, nBits, tilesD } = p.geo;
  const U: number[][][] = [];
  for (let t = 0; t < p.T; t++) {
    const Ut: number[][] = [];
    for (let n = 0; n < p.N; n++) {
      const row = (t << nBits) | n;
      const u: number[] = [];
      for (let j = 0; j < tilesD; j++) u.push(...unpackLanes(words[row * tilesD + j], p.residBits, Math.min(P, p.D - j * P)));
      Ut.push(u);
    }
    U.push(Ut);
  }
  return U;
}

/** The block (generator/blocks/block.ts); the top lists it in TOP_BLOCKS. */
export const attnHalfBlock: Block<AttnHalfParams, void, { s0Rows: number[]; oRows: number[] }, AttnHalfCycles> = {
  name: "attnHalf",
  golden: "generator/model/golden.ts",
  testedBy: ["generator/blocks/attnHalf/attnHalf.test.ts"],
  params: (r) => attnHalfParams(r),
  render: renderAttnHalf,
  memories: (p) => p.memories,
  images: attnHalfImage,
  cycles: (p, w) => attnHalfCycles(p, w.s0Rows, w.oRows),
};
