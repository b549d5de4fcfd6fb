/**
 * dataflow — runs every encoder block (SPEC.md §1.3) around the shared synaptic pool
 * (../synPool): the pool computes every linear layer (q, k, v, o, fc1[e], fc2[e]) layer by
 * layer over all rows; this unit feeds it rows, takes its output beats, and runs everything
 * that is not a synaptic operation behind it — the U pass (U_b = sat(mmem), LIF_a), LIF_qkv,
 * the attention unit (overlapping v and o), U1 and LIF_m (fused into o), the router engine and
 * top-k (behind o), LIF_h and the merge.  No memory inside: every memory is reached through
 * logical-memory pins (p.memories), the residual stream through the u_* client port.
 * Template: ./dataflow.v.hbs (+ ./feeder.v.hbs).  Cycle model: ./cycles.ts.  Tests:
 * ./dataflow.test.ts.  Micro-architecture: docs/ARCHITECTURE.md "## dataflow".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import type { GeneratedFile } from "../../core/files.ts";
import type { Model } from "../../model/golden.ts";
import { renderVerilog } from "../../render/render.ts";
import { hexMask, lowMask, oneHotIndexMasks, resizeU, sext, slit, ulit as vUlit, zext } from "../../render/verilog.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, maxS, minS, signedBitsFor, unsignedBitsFor } from "../../util/bits.ts";
import { packLanes, tilesOf } from "../../util/lanes.ts";
import type { Block, BlockMemory, PortDecl } from "../block.ts";
import { attentionParams, renderAttention, type AttentionParams } from "../attentionCore/attentionCore.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import { logicalMemory, residualMemory, type LogicalMemory, type MemKind, type MemPorts } from "../memory/ram1r1w.ts";
import { renderTopkRouter, topkRouterParams, type TopkRouterParams } from "../topkRouter/topkRouter.ts";
import { dataflowCycles, type BlockWork, type DataflowCycles } from "./cycles.ts";
import { OFFCHIP_ADDR_BITS } from "../../config/resolve.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Geometry

/** The shapes every part of the dataflow (and the pool, and the host) agrees on. */
export interface DataflowGeometry {
  T: number;
  N: number;
  D: number;
  F: number;
  E: number;
  k: number;
  L: number;
  /** P: pool lanes (= LIF lanes = lanes of a umem / mmem word) */
  P: number;
  /** R: router lanes */
  R: number;
  /** G: token group of the engines */
  G: number;
  tilesD: number;
  tilesF: number;
  /** tiles of the router layer: ceil(E / R) */
  tilesR: number;
  /** widest fan-in of a pool layer: max(D, F) */
  inMax: number;
  /** most output tiles of a pool layer: max(tilesD, tilesF) */
  tilesMax: number;
  /** row address {t, n}: n field nBits = idxBits(N), t field tRowBits (0 when T = 1) */
  nBits: number;
  tRowBits: number;
  rowBits: number;
  /** rows of a row buffer: T << nBits (rows with n >= N are never touched) */
  rows: number;
  /** words of umem / mmem: rows * tilesD (word row*tilesD + j) */
  uDepth: number;
  /** pool weight memory: per block q, k, v, o (tilesD*D words each), then per expert fc1 (tilesF*D) and fc2 (tilesD*F) */
  layerW: number;
  perExpW: number;
  blockW: number;
  layerB: number;
  perExpB: number;
  blockB: number;
  /** words of one weight bank (one block): blockW; bias memory: L * blockB */
  bpDepth: number;
  /** router weights: word (b*tilesR + j)*D + c, biases b*tilesR + j */
  wrDepth: number;
  brDepth: number;
}

/** The dataflow's geometry: the design's row and tile geometry (r.geo) plus the router and the weight layout. */
export function dataflowGeometry(r: Resolved): DataflowGeometry {
  const { T, N, D, F, E, k, L } = r;
  const { lanes: P, group: G, tilesD, tilesF, nBits, rows, rowAddrBits: rowBits } = r.geo;
  const R = r.hw.routerLanes;
  const tilesR = Math.ceil(E / R);
  const layerW = tilesD * D;
  const perExpW = tilesF * D + tilesD * F;
  const blockW = 4 * layerW + E * perExpW;
  const layerB = tilesD;
  const perExpB = tilesF + tilesD;
  const blockB = 4 * layerB + E * perExpB;
  return {
    T,
    N,
    D,
    F,
    E,
    k,
    L,
    P,
    R,
    G,
    tilesD,
    tilesF,
    tilesR,
    inMax: Math.max(D, F),
    tilesMax: Math.max(tilesD, tilesF),
    nBits,
    tRowBits: r.geo.tAddrBits,
    rowBits,
    rows,
    uDepth: r.geo.umemDepth,
    layerW,
    perExpW,
    blockW,
    layerB,
    perExpB,
    blockB,
    bpDepth: L * blockB,
    wrDepth: L * tilesR * D,
    brDepth: L * tilesR,
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters

/** A memory of the dataflow unit or of the pool (the shared block type). */
export type DataflowMemory = BlockMemory;
export type DataflowPort = PortDecl;

/** Values of the `phase` output (code = index + 1): what the sequencer is doing. */
export const DATAFLOW_PHASES = ["lif_a", "q", "k", "v", "o", "route", "fc1", "fc2", "final"] as const;
export type DataflowPhase = (typeof DATAFLOW_PHASES)[number];

export interface DataflowParams {
  module: string;
  geo: DataflowGeometry;
  routing: "per-step" | "per-token";
  residBits: number;
  accBits: number;
  /** signed width of a merge-accumulator lane: U1 + k fc2 outputs, exact */
  mergeBits: number;
  routerSumBits: number;
  /** bk: block counter 0..L (L = the final pass); blk output: idxBits(L) */
  bkBits: number;
  blkBits: number;
  exBits: number;
  /** tile index of a pool beat (the pool's out_tile) */
  tileBits: number;
  /** tile index within tilesD (pass, LIF_a / LIF_m) */
  jdBits: number;
  uAddrBits: number;
  /** counters of rows (0..T*N) and timesteps (0..T) */
  vrBits: number;
  akBits: number;
  /** the pool as seen from the dataflow (the synPool's engine) */
  pool: LinearEngineParams;
  router: LinearEngineParams;
  poolFeeder: FeederParams;
  routerFeeder: FeederParams;
  topk: TopkRouterParams;
  /** shortcut LIF (LIF_a in the pass and LIF_m in o: one array, one state memory) */
  lifSc: LifArrayParams;
  lifQkv: LifArrayParams;
  lifH: LifArrayParams;
  attn: AttentionParams;
  /** every memory the dataflow owns, in port order */
  memories: DataflowMemory[];
  /** the residual memory the u_* port expects (instantiated and muxed by the top, not owned) */
  umem: LogicalMemory;
  ports: DataflowPort[];
  /** hardware.weightsOnChip false: the layer descriptors this unit sends to the pool's weight stream (undefined: weights on chip) */
  stream?: DescriptorParams;
}

/**
 * The descriptor sequencer (weights streamed from off-chip): layers in the off-chip image order
 * of ../weightStream/poolStream.ts (per block q, k, v, o, then fc1, fc2 of each expert), each
 * `bytes` long, those of an expert with no routed row skipped.
 */
export interface DescriptorParams {
  /** ld_base: the off-chip byte address */
  addrBits: number;
  /** ld_words: 0 .. the half depth */
  countBits: number;
  /** words of q/k/v/o, fc1, fc2 */
  layerW: number;
  fc1W: number;
  fc2W: number;
  /** off-chip bytes of one word: K beats */
  wordBytes: number;
}

export interface FeederParams {
  module: string;
  dataBits: number;
  tagBits: number;
}

export function dataflowParams(r: Resolved): DataflowParams {
  const g = dataflowGeometry(r);
  const { D, F, E, k, L, P, R, G, rows, rowBits, nBits } = g;
  const name = r.name;
  const pool = linearEngineParams(r, "pool", { inMax: g.inMax, tilesMax: g.tilesMax, tagBits: rowBits, wDepth: g.blockW, bDepth: g.bpDepth, lanes: P, group: G });
  const router = linearEngineParams(r, "router", { inMax: D, tilesMax: g.tilesR, tagBits: rowBits, wDepth: g.wrDepth, bDepth: g.brDepth, lanes: R, group: G });
  const perToken = r.routing === "per-token";
  const topk = topkRouterParams(r, perToken ? { zBits: r.routerSumBits, tagBits: nBits } : { zBits: r.accBits, tagBits: rowBits });
  const lifSc = lifArrayParams(r, r.lif.shortcut, "sc", g.N * g.tilesD * P, P);
  const lifQkv = lifArrayParams(r, r.lif.qkv, "qkv", g.N * g.tilesD * P, P);
  const lifH = lifArrayParams(r, r.lif.hidden, "h", g.N * g.tilesF * P, P, true);
  const attn = attentionParams(r, { lifSets: 1 });
  const mergeBits = signedBitsFor(minS(r.residBits) + k * minS(r.accBits), maxS(r.residBits) + k * maxS(r.accBits));
  const mem = (prefix: string, label: string, depth: number, width: number, kind: MemKind, ports: MemPorts) =>
    logicalMemory(`${name}_mem_${prefix}`, label, depth, width, { kind, ports });
  const rw = (m: LogicalMemory, prefix: string, role: string): DataflowMemory => ({ mem: m, prefix, access: "rw", hostWritable: false, role });
  const memories: DataflowMemory[] = [
    rw(mem("sbuf", "S0 then O spike rows", rows, D, "spikes", "1r1w"), "sbuf", "S0 (pass), then O (attention) spike rows {t,n} x D; read by the pool feeder while the attention unit writes"),
    rw(mem("qbuf", "Q spike rows", rows, D, "spikes", "1rw"), "qbuf", "Q spike rows {t,n} x D"),
    rw(mem("kbuf", "K spike rows", rows, D, "spikes", "1rw"), "kbuf", "K spike rows {t,n} x D"),
    rw(mem("vbuf", "V spike rows", rows, D, "spikes", "1r1w"), "vbuf", "V spike rows {t,n} x D; the attention unit reads timestep t while v writes t+1"),
    rw(mem("sbufm", "S1 spike rows", rows, D, "spikes", "1r1w"), "sbufm", "S1 spike rows {t,n} x D; the router reads a row while LIF_m writes later ones"),
    rw(mem("hbuf", "hidden spike rows", rows, F, "spikes", "1rw"), "hbuf", "hidden spikes of the current expert, rows {t,n} x F"),
    rw(mem("mmem", "merge accumulators", g.uDepth, P * mergeBits, "residual", "1r1w"), "mmem", "U1 + sum of y_e (exact), word row*tilesD + j"),
    rw({ ...lifSc.mem, kind: "state" }, "lifsc", "LIF_a (pass) and LIF_m (o) membrane state, word n*tilesD + j"),
    rw({ ...lifQkv.mem, kind: "state" }, "lifqkv", "LIF_q/k/v membrane state (one layer at a time), word n*tilesD + j"),
    rw({ ...lifH.mem, kind: "state" }, "lifh", "LIF_h membrane state of the current expert, word n*tilesF + j"),
    ...attn.memories.map((m) => rw({ ...m.mem, kind: "state" }, m.prefix, m.role)),
    {
      mem: mem("wr", "router weights of all blocks", g.wrDepth, R * r.weightBits, "weights", "1rw"),
      prefix: "wr",
      access: "read",
      hostWritable: true,
      role: "router weights: word (b*tilesR + j)*D + c, lane l = weight[j*R + l][c]",
    },
    {
      mem: mem("br", "router biases of all blocks", g.brDepth, R * r.biasBits, "weights", "1rw"),
      prefix: "br",
      access: "read",
      hostWritable: true,
      role: "router biases: word b*tilesR + j, lane l = bias[j*R + l]",
    },
  ];
  const umem = residualMemory(r);
  const p: DataflowParams = {
    module: `${name}_dataflow`,
    geo: g,
    routing: r.routing,
    residBits: r.residBits,
    accBits: r.accBits,
    mergeBits,
    routerSumBits: r.routerSumBits,
    bkBits: idxBits(L + 1),
    blkBits: idxBits(L),
    exBits: idxBits(E),
    tileBits: pool.tileIdxBits,
    jdBits: idxBits(g.tilesD),
    uAddrBits: umem.addrBits,
    vrBits: unsignedBitsFor(g.T * g.N),
    akBits: unsignedBitsFor(g.T),
    pool,
    router,
    poolFeeder: { module: `${name}_feeder_pool`, dataBits: g.inMax, tagBits: rowBits },
    routerFeeder: { module: `${name}_feeder_router`, dataBits: D, tagBits: rowBits },
    topk,
    lifSc,
    lifQkv,
    lifH,
    attn,
    memories,
    umem,
    ports: [],
  };
  const w = r.hw.weights;
  if (!w.onChip)
    p.stream = { addrBits: OFFCHIP_ADDR_BITS, countBits: unsignedBitsFor(w.halfDepth), layerW: g.layerW, fc1W: g.tilesF * D, fc2W: g.tilesD * F, wordBytes: (w.beatsPerWord * w.beatBits) / 8 };
  p.ports = dataflowPorts(p);
  return p;
}

/** Every port of the module, in declaration order. */
function dataflowPorts(p: DataflowParams): DataflowPort[] {
  const g = p.geo;
  const e = p.pool;
  const ports: DataflowPort[] = [];
  const add = (name: string, dir: "input" | "output", width = 1) => ports.push({ name, dir, width });
  add("clk", "input");
  add("rst", "input");
  add("start", "input");
  add("busy", "output");
  add("done", "output");
  add("blk", "output", p.blkBits);
  add("phase", "output", 4);
  for (const c of ["perf_syn_attn", "perf_syn_ffn", "perf_syn_router", "perf_spk", "perf_spk_o", "perf_spk_s1", "perf_spk_h", "perf_routed"]) add(c, "output", 64);
  add("rt_class", "output", 3);
  // the pool (client side of the synPool's engine port)
  add("p_start", "output");
  add("p_cfg_fanin", "output", e.faninBits);
  add("p_cfg_tiles", "output", e.tilesBits);
  add("p_cfg_wbase", "output", e.wAddrBits);
  add("p_cfg_bbase", "output", e.bAddrBits);
  add("p_cfg_wbank", "output", idxBits(g.L));
  add("p_done", "input");
  add("p_row_valid", "output");
  add("p_row_ready", "input");
  add("p_row_tag", "output", g.rowBits);
  add("p_row_spikes", "output", g.inMax);
  add("p_row_last", "output");
  add("p_out_valid", "input");
  add("p_out_ready", "output");
  add("p_out_tag", "input", g.rowBits);
  add("p_out_tile", "input", p.tileBits);
  add("p_out_data", "input", g.P * p.accBits);
  if (p.stream) {
    // layer descriptors of the pool's weight stream (weights off chip)
    add("p_ld_valid", "output");
    add("p_ld_ready", "input");
    add("p_ld_base", "output", p.stream.addrBits);
    add("p_ld_words", "output", p.stream.countBits);
  }
  // umem client port
  add("u_re", "output");
  add("u_raddr", "output", p.uAddrBits);
  add("u_rdata", "input", g.P * p.residBits);
  add("u_we", "output");
  add("u_waddr", "output", p.uAddrBits);
  add("u_wdata", "output", g.P * p.residBits);
  for (const m of p.memories) {
    add(`${m.prefix}_re`, "output");
    add(`${m.prefix}_raddr`, "output", m.mem.addrBits);
    add(`${m.prefix}_rdata`, "input", m.mem.width);
    if (m.access === "rw") {
      add(`${m.prefix}_we`, "output");
      add(`${m.prefix}_waddr`, "output", m.mem.addrBits);
      add(`${m.prefix}_wdata`, "output", m.mem.width);
      add(`${m.prefix}_wmask`, "output", m.mem.width);
    }
  }
  return ports;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const ulit = (bits: number, v: number) => vUlit(bits, v);
/** an address constant taken modulo 2^bits (the Verilog sum wraps the same way) */
const modLit = (bits: number, v: number) => ulit(bits, Number(BigInt(v) % (1n << BigInt(bits))));

export function dataflowContext(p: DataflowParams) {
  const g = p.geo;
  const { T, N, D, F, E, L, P } = g;
  const hasT = g.tRowBits > 0;
  const rowOf = (t: string, n: string) => (hasT ? `{${t}, ${n}}` : n);
  const tOf = (row: string) => `${row}[${g.rowBits - 1}:${g.nBits}]`;
  const nOf = (row: string) => (hasT ? `${row}[${g.nBits - 1}:0]` : row);
  const wpA = p.pool.wAddrBits;
  const bpA = p.pool.bAddrBits;
  const wrA = p.router.wAddrBits;
  const brA = p.router.bAddrBits;
  const uA = p.uAddrBits;
  const scA = p.lifSc.addrBits;
  const hA = p.lifH.addrBits;
  const tB = p.tileBits;
  const jd = p.jdBits;
  const uAddrOf = (row: string, tile: string, tileW: number) => `${zext(row, g.rowBits, uA)} * ${modLit(uA, g.tilesD)} + ${resizeU(tile, tileW, uA)}`;
  const stAddrOf = (row: string, tile: string, tileW: number, a: number, tiles: number) => `${zext(nOf(row), g.nBits, a)} * ${modLit(a, tiles)} + ${resizeU(tile, tileW, a)}`;
  const sumBits = Math.max(p.residBits, p.accBits) + 1;
  const mB = p.mergeBits;
  const lastW = (width: number) => width - (Math.ceil(width / P) - 1) * P;
  const laneMask = (w: number) => `${P}'h${((1n << BigInt(w)) - 1n).toString(16)}`;
  const lmask = (idx: string, idxBits: number, tiles: number, width: number) =>
    lastW(width) === P ? `{${P}{1'b1}}` : `(${idx} == ${ulit(idxBits, tiles - 1)}) ? ${laneMask(lastW(width))} : {${P}{1'b1}}`;
  const trees = {
    pool: adderTree(busBits("pr_row", g.inMax), "pc_p"),
    router: adderTree(busBits("rr_row", D), "pc_r"),
    sa: adderTree(busBits("sa_bits", P), "pc_a"),
    qs: adderTree(busBits("qs_bits", P), "pc_q"),
    hs: adderTree(busBits("hs_bits", P), "pc_h"),
    os: adderTree(busBits("os_bits", D), "pc_o"),
  };
  const root64 = (t: { root: { expr: string; bits: number } }) => zext(t.root.expr, t.root.bits, 64);
  const rBus = p.router.lanes * p.accBits;
  const zBits = E * p.accBits;
  const zLast = zBits - (g.tilesR - 1) * rBus;
  const tokPad = 2 ** g.nBits - N;
  const portDecls = p.ports.map((q, i) => ({
    decl: `${q.dir === "input" ? "input " : "output"} wire ${q.width > 1 || vecPort(q.name) ? `[${q.width - 1}:0] ` : ""}${q.name}`,
    sep: i === p.ports.length - 1 ? "" : ",",
  }));
  const sq = p.stream;
  const seq = sq
    ? {
        aMsb: sq.addrBits - 1,
        LEMsb: L * E - 1,
        LMsb: L - 1,
        layerBytes: ulit(sq.addrBits, g.layerW * sq.wordBytes),
        fc1Bytes: ulit(sq.addrBits, sq.fc1W * sq.wordBytes),
        fc2Bytes: ulit(sq.addrBits, sq.fc2W * sq.wordBytes),
        expBytes: ulit(sq.addrBits, (sq.fc1W + sq.fc2W) * sq.wordBytes),
        layerW: ulit(sq.countBits, sq.layerW),
        fc1W: ulit(sq.countBits, sq.fc1W),
        fc2W: ulit(sq.countBits, sq.fc2W),
        addr0: ulit(sq.addrBits, 0),
        eZero: ulit(E, 0),
        lZero: ulit(L, 0),
        bkLastBlock: ulit(p.bkBits, L - 1),
        blocks: [...Array(L).keys()].map((b) => ({ b, bkLit: ulit(p.bkBits, b), lsb: b * E })),
      }
    : undefined;
  return {
    stream: !!sq,
    ...(seq ? { seq } : {}),
    module: p.module,
    L,
    T,
    N,
    P,
    R: p.router.lanes,
    E,
    rows: g.rows,
    routing: p.routing,
    residBits: p.residBits,
    accBits: p.accBits,
    mergeBits: mB,
    tilesD: g.tilesD,
    tilesF: g.tilesF,
    tilesR: g.tilesR,
    hasT,
    perToken: p.routing === "per-token",
    lastBlock: L - 1,
    portDecls,
    poolFeederModule: p.poolFeeder.module,
    routerFeederModule: p.routerFeeder.module,
    routerModule: p.router.module,
    topkModule: p.topk.module,
    lifScModule: p.lifSc.module,
    lifQkvModule: p.lifQkv.module,
    lifHModule: p.lifH.module,
    unitModule: p.attn.unitModule,
    laPorts: p.attn.memories.map((m) => ({ prefix: m.prefix })),
    // widths
    bkMsb: p.bkBits - 1,
    exMsb: p.exBits - 1,
    eMsb: E - 1,
    rowsMsb: g.rows - 1,
    rowMsb: g.rowBits - 1,
    tMsb: Math.max(g.tRowBits, 1) - 1,
    nMsb: g.nBits - 1,
    jdMsb: jd - 1,
    tileMsb: tB - 1,
    uAMsb: uA - 1,
    uWMsb: P * p.residBits - 1,
    mmWMsb: P * mB - 1,
    mmW: P * mB,
    scAMsb: scA - 1,
    qkAMsb: p.lifQkv.addrBits - 1,
    hAMsb: hA - 1,
    wpMsb: wpA - 1,
    bpMsb: bpA - 1,
    wrMsb: wrA - 1,
    brMsb: brA - 1,
    inMsb: g.inMax - 1,
    DMsb: D - 1,
    FMsb: F - 1,
    PMsb: P - 1,
    accMsb: p.accBits - 1,
    accBusMsb: P * p.accBits - 1,
    residMsb: p.residBits - 1,
    mgMsb: mB - 1,
    osMsb: sumBits - 1,
    vrMsb: p.vrBits - 1,
    akMsb: p.akBits - 1,
    atMsb: p.akBits - 1,
    attTMsb: p.attn.geo.tBits - 1,
    rTileMsb: p.router.tileIdxBits - 1,
    rBusMsb: rBus - 1,
    zMsb: zBits - 1,
    multiTileR: g.tilesR > 1,
    zLastMsb: zLast - 1,
    tilesRLast: g.tilesR - 1,
    zTiles: [...Array(g.tilesR - 1).keys()].map((j) => ({ j, jLit: ulit(p.router.tileIdxBits, j) })),
    zTilesRev: [...Array(g.tilesR - 1).keys()].reverse().map((j) => ({ j })),
    gpMsb: idxBits(g.G) - 1,
    gLast: g.G - 1,
    ecolMsb: E * g.rows - 1,
    taccMsb: E * p.routerSumBits - 1,
    rsb: p.routerSumBits,
    nLast: N - 1,
    tokPad,
    tokPadLit: `${tokPad}'d0`,
    // expressions
    blkOut: L === 1 ? `${p.blkBits}'d0` : `fin_pass ? ${ulit(p.blkBits, L - 1)} : ${resizeU("bk", p.bkBits, p.blkBits)}`,
    paLast: `(pa_n == ${ulit(g.nBits, N - 1)}) && (pa_j == ${ulit(jd, g.tilesD - 1)})${hasT ? ` && (pa_t == ${ulit(g.tRowBits, T - 1)})` : ""}`,
    paRowEnd: `(pa_n == ${ulit(g.nBits, N - 1)}) && (pa_j == ${ulit(jd, g.tilesD - 1)})`,
    paFirst: hasT ? `(pa_t == ${ulit(g.tRowBits, 0)})` : "1'b1",
    paRow: rowOf("pa_t", "pa_n"),
    fdT: hasT ? zext("fd_t", g.tRowBits, p.akBits) : `${p.akBits}'d0`,
    fdRow: rowOf("fd_t", "fd_n"),
    fdLast: `(fd_n == ${ulit(g.nBits, N - 1)})${hasT ? ` && (fd_t == ${ulit(g.tRowBits, T - 1)})` : ""}`,
    rtRow: rowOf("rt_t", "rt_n"),
    rtLast: `(rt_n == ${ulit(g.nBits, N - 1)})${hasT ? ` && (rt_t == ${ulit(g.tRowBits, T - 1)})` : ""}`,
    bT0: hasT ? `(${tOf("p_out_tag")} == ${ulit(g.tRowBits, 0)})` : "1'b1",
    rTagT0: hasT ? `(${tOf("r_tag")} == ${ulit(g.tRowBits, 0)})` : "1'b1",
    rTagN: nOf("r_tag"),
    rLastTile: g.tilesR === 1 ? "1'b1" : `(r_tile == ${ulit(p.router.tileIdxBits, g.tilesR - 1)})`,
    sbufToIn: zext("sbuf_rdata", D, g.inMax),
    sbufmToIn: zext("sbufm_rdata", D, g.inMax),
    hbufToIn: zext("hbuf_rdata", F, g.inMax),
    bUaddr: uAddrOf("p_out_tag", "p_out_tile", tB),
    qkvAddr: stAddrOf("p_out_tag", "p_out_tile", tB, p.lifQkv.addrBits, g.tilesD),
    oScAddr: stAddrOf("o_row2", "o_j2", jd, scA, g.tilesD),
    bTileD: resizeU("p_out_tile", tB, jd),
    hAddr: stAddrOf("p_out_tag", "p_out_tile", tB, hA, g.tilesF),
    oJ4d: "o_j4",
    akToT: resizeU("at_k", p.akBits, p.attn.geo.tBits),
    bkToBank: resizeU("bk", p.bkBits, idxBits(L)),
    scLmask: lmask("sc_j", jd, g.tilesD, D),
    qLmask: lmask("q_j2", tB, g.tilesD, D),
    hLmask: lmask("h_j2", tB, g.tilesF, F),
    dtiles: tilesOf(D, P).map((t) => ({ lsb: t.lsb, w: t.w, wMsb: t.wMsb, jLit: ulit(tB, t.j), jdLit: ulit(jd, t.j) })),
    ftiles: tilesOf(F, P).map((t) => ({ lsb: t.lsb, w: t.w, wMsb: t.wMsb, jLit: ulit(tB, t.j) })),
    rowIdx: oneHotIndexMasks(g.rows, g.rowBits),
    lanes: [...Array(P).keys()].map((l) => ({
      l,
      rLsb: l * p.residBits,
      mLsb: l * mB,
      aLsb: l * p.accBits,
      uExt: sext(`o_ul${l}`, p.residBits, sumBits),
      yExt: sext(`o_yl${l}`, p.accBits, sumBits),
      u1Ext: sext(`o_wl${l}`, p.residBits, mB),
      myExt: sext(`m_yl${l}`, p.accBits, mB),
    })),
    experts: [...Array(E).keys()].map((e) => ({ e, exLit: ulit(p.exBits, e), lsb: e * g.rows, aLsb: e * p.accBits, sLsb: e * p.routerSumBits, zExt: sext(`z_e${e}`, p.accBits, p.routerSumBits) })),
    trees: Object.values(trees).map((t) => ({ nodes: t.nodes.map(({ name, msb, a, b }) => ({ name, msb, a, b })) })),
    incPoolD: `${root64(trees.pool)} * 64'd${D}`,
    incPoolF: `${root64(trees.pool)} * 64'd${F}`,
    incRouter: `${root64(trees.router)} * 64'd${E}`,
    incSa: root64(trees.sa),
    incQs: root64(trees.qs),
    incHs: root64(trees.hs),
    incOs: root64(trees.os),
    lit: {
      bk0: ulit(p.bkBits, 0),
      gp0: ulit(idxBits(g.G), 0),
      gp1: ulit(idxBits(g.G), 1),
      rTileLast: ulit(p.router.tileIdxBits, g.tilesR - 1),
      bk1: ulit(p.bkBits, 1),
      bkL: ulit(p.bkBits, L),
      ex0: ulit(p.exBits, 0),
      ex1: ulit(p.exBits, 1),
      exLast: ulit(p.exBits, E - 1),
      bp0: ulit(bpA, 0),
      wr0: ulit(wrA, 0),
      br0: ulit(brA, 0),
      bpBlk: modLit(bpA, g.blockB),
      wrBlk: modLit(wrA, g.tilesR * D),
      brBlk: modLit(brA, g.tilesR),
      wpLay: [0, 1, 2, 3].map((l) => modLit(wpA, l * g.layerW)),
      bpLay: [0, 1, 2, 3].map((l) => modLit(bpA, l * g.layerB)),
      wpExp0: modLit(wpA, 4 * g.layerW),
      bpExp0: modLit(bpA, 4 * g.layerB),
      wpExp: modLit(wpA, g.perExpW),
      bpExp: modLit(bpA, g.perExpB),
      wpFc2: modLit(wpA, g.tilesF * D),
      bpFc2: modLit(bpA, g.tilesF),
      faninD: ulit(p.pool.faninBits, D),
      faninF: ulit(p.pool.faninBits, F),
      tilesD: ulit(p.pool.tilesBits, g.tilesD),
      tilesF: ulit(p.pool.tilesBits, g.tilesF),
      rFanin: ulit(p.router.faninBits, D),
      rTiles: ulit(p.router.tilesBits, g.tilesR),
      t0: ulit(Math.max(g.tRowBits, 1), 0),
      t1: ulit(Math.max(g.tRowBits, 1), 1),
      n0: ulit(g.nBits, 0),
      n1: ulit(g.nBits, 1),
      nLast: ulit(g.nBits, N - 1),
      jd0: ulit(jd, 0),
      jd1: ulit(jd, 1),
      jdLast: ulit(jd, g.tilesD - 1),
      tileDLast: ulit(tB, g.tilesD - 1),
      ua0: ulit(uA, 0),
      ua1: ulit(uA, 1),
      uSkip: modLit(uA, (2 ** g.nBits - N) * g.tilesD + 1),
      sc0: ulit(scA, 0),
      sc1: ulit(scA, 1),
      rowsOne: `${g.rows}'d1`,
      rowsZero: `${g.rows}'d0`,
      ak0: ulit(p.akBits, 0),
      ak1: ulit(p.akBits, 1),
      akT: ulit(p.akBits, T),
      atc0: ulit(p.akBits, 0),
      atc1: ulit(p.akBits, 1),
      vr0: ulit(p.vrBits, 0),
      vr1: ulit(p.vrBits, 1),
      vrN: ulit(p.vrBits, N),
      rsb0: ulit(p.routerSumBits, 0),
      satMax: slit(mB, maxS(p.residBits)),
      satMin: slit(mB, minS(p.residBits)),
      osMax: slit(sumBits, maxS(p.residBits)),
      osMin: slit(sumBits, minS(p.residBits)),
      residMax: slit(p.residBits, maxS(p.residBits)),
      residMin: slit(p.residBits, minS(p.residBits)),
    },
  };
}

/** Ports that are vectors even when one bit wide (so `[0:0]` indexing stays valid): D = 1 rows. */
function vecPort(name: string): boolean {
  return /_(rdata|wdata|wmask)$/.test(name) || ["p_row_spikes", "blk"].includes(name);
}

export function renderFeeder(r: Resolved, f: FeederParams): GeneratedFile {
  return renderVerilog(r, path.join(here, "feeder.v.hbs"), `${f.module}.v`, "row feeder (2-entry prefetch FIFO with bypass)", {
    module: f.module,
    dataMsb: f.dataBits - 1,
    tagMsb: f.tagBits - 1,
  });
}

/** The dataflow unit and every submodule (router engine, feeders, top-k, LIF arrays, attention unit and cores); no memory, not the pool. */
export function renderDataflow(r: Resolved, p: DataflowParams): GeneratedFile[] {
  return [
    renderVerilog(r, path.join(here, "dataflow.v.hbs"), `${p.module}.v`, "dataflow unit: every encoder block around the synaptic pool", dataflowContext(p)),
    renderFeeder(r, p.poolFeeder),
    renderFeeder(r, p.routerFeeder),
    ...renderLinearEngine(r, p.router),
    ...renderTopkRouter(r, p.topk),
    ...renderLifArray(r, p.lifSc),
    ...renderLifArray(r, p.lifQkv),
    ...renderLifArray(r, p.lifH),
    ...renderAttention(r, p.attn),
  ];
}

// ---------------------------------------------------------------------------------------------
// Memory images (host-written weights and biases)

/** The layers of a block in the pool weight memory, in address order. */
export const POOL_LAYERS = ["q", "k", "v", "o"] as const;

/**
 * Words of the host-written memories: pool weights (wp[b]: the synPool's bank of block b),
 * pool biases (bp) and router weights/biases (wr, br), as arrays indexed by address.  Pool
 * weights in bank b: q, k, v, o at l*tilesD*D, then expert e at 4*tilesD*D + e*perExpW: fc1 (tile j,
 * channel c at + j*D + c), fc2 (at + tilesF*D + j*F + c); lane l = weight[j*P + l][c], 0 past
 * the layer's outputs.  Biases: b*blockB + l*tilesD + j, experts 4*tilesD + e*perExpB + j (fc1),
 * + tilesF + j (fc2).  Router: word (b*tilesR + j)*D + c, lane l = router.weight[j*R + l][c];
 * bias b*tilesR + j.
 */
export function dataflowImages(r: Resolved, g: DataflowGeometry, model: Model): { wp: bigint[][]; bp: bigint[]; wr: bigint[]; br: bigint[] } {
  if (model.blocks.length !== g.L) throw new Error(`dataflowImages: model has ${model.blocks.length} blocks, config says ${g.L}`);
  const { D, F, P, R } = g;
  const wp = [...Array(g.L)].map(() => new Array<bigint>(g.blockW).fill(0n));
  const bp = new Array<bigint>(g.bpDepth).fill(0n);
  const wr = new Array<bigint>(g.wrDepth).fill(0n);
  const br = new Array<bigint>(g.brDepth).fill(0n);
  const put = (wBase: number, bBase: number, weight: number[][], bias: number[], lanes: number, wOut: bigint[], bOut: bigint[]) => {
    const out = weight.length;
    const fanin = weight[0].length;
    for (let j = 0; j < Math.ceil(out / lanes); j++) {
      const ch = [...Array(lanes).keys()].map((l) => j * lanes + l);
      bOut[bBase + j] = packLanes(ch.map((o) => (o < out ? bias[o] : 0)), r.biasBits);
      for (let c = 0; c < fanin; c++) wOut[wBase + j * fanin + c] = packLanes(ch.map((o) => (o < out ? weight[o][c] : 0)), r.weightBits);
    }
  };
  model.blocks.forEach((bw, b) => {
    POOL_LAYERS.forEach((l, i) => put(i * g.layerW, b * g.blockB + i * g.layerB, bw[l].weight, bw[l].bias, P, wp[b], bp));
    bw.experts.forEach((ew, e) => {
      const wb = 4 * g.layerW + e * g.perExpW;
      const bb = b * g.blockB + 4 * g.layerB + e * g.perExpB;
      put(wb, bb, ew.fc1.weight, ew.fc1.bias, P, wp[b], bp);
      put(wb + g.tilesF * D, bb + g.tilesF, ew.fc2.weight, ew.fc2.bias, P, wp[b], bp);
    });
    put(b * g.tilesR * D, b * g.tilesR, bw.router.weight, bw.router.bias, R, wr, br);
  });
  void F;
  return { wp, bp, wr, br };
}

/** The router's host-written memories (wr, br) for a model: memory module -> words. */
export function dataflowRouterImages(r: Resolved, p: DataflowParams, model: Model): Map<string, bigint[]> {
  const img = dataflowImages(r, p.geo, model);
  const mod = (prefix: string) => p.memories.find((m) => m.prefix === prefix)!.mem.module;
  return new Map([
    [mod("wr"), img.wr],
    [mod("br"), img.br],
  ]);
}

/**
 * The block (generator/blocks/block.ts): every encoder block around the synaptic pool, the
 * golden model of the whole workload, its exact cycle model (./cycles.ts).
 */
export const dataflowBlock: Block<DataflowParams, void, BlockWork[], DataflowCycles> = {
  name: "dataflow",
  golden: "generator/model/golden.ts",
  testedBy: ["generator/blocks/dataflow/dataflow.test.ts", "test/e2e.test.ts"],
  params: (r) => dataflowParams(r),
  render: renderDataflow,
  memories: (p) => p.memories,
  images: dataflowRouterImages,
  cycles: (p, work) => dataflowCycles(p, work),
};
