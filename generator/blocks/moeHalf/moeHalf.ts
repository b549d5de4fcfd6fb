/**
 * moeHalf — the MoE half of an encoder block (SPEC §1.3, from U1 to U2), run once per block:
 *   S1 = LIF_m(U1); z = Lin_router(S1); sel = topk(z) (per-step or per-token);
 *   for e in sel: y_e = Lin_fc2[e](LIF_h[e](Lin_fc1[e](S1)));  U2 = sat_residBits(U1 + sum y_e)
 * Parameters, pins, memory images, rendering and the cycle model.
 * Submodules: ../expertCore (cores, feeder), ../linearEngine (router + expert engines),
 * ../lifArray (LIF_m, LIF_h), ../topkRouter.  No memory inside: every memory is reached
 * through logical-memory pins (p.memories) and umem through the client port u_*.
 * Tests: ./moeHalf.test.ts (testbench ./moeHalf_tb.v.hbs + ./testbench.ts).
 * Micro-architecture: docs/ARCHITECTURE.md, "## moeHalf".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import type { Model } from "../../model/golden.ts";
import { renderVerilog, resizeU, sext, vlit, zext, type GeneratedFile } from "../../render/render.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, maxS, minS, signedBitsFor, unsignedBitsFor } from "../../util/bits.ts";
import { lifStep } from "../lifArray/golden.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearCycles, linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import { linear } from "../linearEngine/golden.ts";
import { logicalMemory, type LogicalMemory, type MemKind, type MemPorts } from "../memory/ram1r1w.ts";
import { renderTopkRouter, topkRouterParams, type TopkRouterParams } from "../topkRouter/topkRouter.ts";
import {
  expertCoreCycles,
  expertCoreParams,
  feederParams,
  moeGeometry,
  oneHotIndexMasks,
  renderExpertCore,
  renderFeeder,
  tilesOf,
  type ExpertCoreParams,
  type ExpertWork,
  type FeederParams,
  type MoeGeometry,
} from "../expertCore/expertCore.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** One memory the half uses, with the prefix of its pins on the half. */
export interface MoeMemory {
  mem: LogicalMemory;
  /** pins <prefix>_re, _raddr, _rdata (+ _we, _waddr, _wdata, _wmask when access = "rw") */
  prefix: string;
  /** "rw": the half owns both ports; "read": the half only reads (the write port is the host's) */
  access: "rw" | "read";
  /** written by the host before inference (weights, biases) */
  hostWritable: boolean;
  /** sbufM | lifM | mmem | hbuf | lifH | routerWeights | routerBias | expertWeights | expertBias */
  role: string;
  /** expert core of a per-core memory */
  core?: number;
}

export interface MoeHalfParams {
  module: string;
  geo: MoeGeometry;
  routing: "per-step" | "per-token";
  /** the C identical expert cores (one module) */
  core: ExpertCoreParams;
  /** router engine: lanes = E, 1 tile, fan-in D */
  router: LinearEngineParams;
  routerFeeder: FeederParams;
  topk: TopkRouterParams;
  /** LIF_m: shortcut family, P lanes, N*tilesD state words (token n, tile j at n*tilesD + j) */
  lifm: LifArrayParams;
  /** signed width of a merge-accumulator lane: U1 + k fc2 outputs, exact */
  mergeBits: number;
  residBits: number;
  accBits: number;
  /** per-token score-sum width (r.routerSumBits) */
  routerSumBits: number;
  /** cfg_block width */
  blockBits: number;
  /** umem (shared, not in `memories`): rows*tilesD words of P x residBits, address row*tilesD + j */
  uDepth: number;
  uAddrBits: number;
  uWidth: number;
  /** every memory the half owns or reads (umem excluded), in port order */
  memories: MoeMemory[];
  /** width of the per-cycle synaptic-op increment */
  synIncBits: number;
}

export function moeHalfParams(r: Resolved): MoeHalfParams {
  const geo = moeGeometry(r);
  const { T, N, D, F, E, k, L, P, G, C, rows, tilesD, rowBits, nBits } = geo;
  const core = expertCoreParams(r);
  const router = linearEngineParams(r, "router", { inMax: D, tilesMax: 1, tagBits: rowBits, wDepth: L * D, bDepth: L, lanes: E, group: G });
  const perToken = r.routing === "per-token";
  const topk = topkRouterParams(r, perToken ? { zBits: r.routerSumBits, tagBits: nBits } : { zBits: r.accBits, tagBits: rowBits });
  const lifm = lifArrayParams(r, r.lif.shortcut, "moem", N * tilesD * P, P, false);
  const mergeBits = signedBitsFor(minS(r.residBits) + k * minS(r.accBits), maxS(r.residBits) + k * maxS(r.accBits));
  const uDepth = rows * tilesD;
  const mem = (suffix: string, label: string, depth: number, width: number, kind: MemKind, ports: MemPorts) =>
    logicalMemory(`${r.name}_moe_${suffix}`, label, depth, width, { kind, ports });
  const memories: MoeMemory[] = [
    { mem: mem("sbufm", "S1 spike rows (sbufM)", rows, D, "spikes", "1rw"), prefix: "sbufm", access: "rw", hostWritable: false, role: "sbufM" },
    { mem: mem("lifm_state", "LIF_m membrane state", lifm.depth, P * lifm.wBits, "state", "1r1w"), prefix: "lifm", access: "rw", hostWritable: false, role: "lifM" },
    { mem: mem("mmem", "MoE merge accumulators", uDepth, P * mergeBits, "residual", "1r1w"), prefix: "mmem", access: "rw", hostWritable: false, role: "mmem" },
    { mem: mem("wr", "router weights", L * D, E * r.weightBits, "weights", "1rw"), prefix: "wr", access: "read", hostWritable: true, role: "routerWeights" },
    { mem: mem("br", "router biases", L, E * r.biasBits, "weights", "1rw"), prefix: "br", access: "read", hostWritable: true, role: "routerBias" },
  ];
  for (let c = 0; c < C; c++) {
    memories.push(
      { mem: mem(`hbuf${c}`, `hidden spike rows, expert core ${c}`, rows, F, "spikes", "1rw"), prefix: `hbuf${c}`, access: "rw", hostWritable: false, role: "hbuf", core: c },
      {
        mem: mem(`lifh${c}_state`, `LIF_h membrane state, expert core ${c}`, core.lif.depth, P * core.lif.wBits, "state", "1r1w"),
        prefix: `lifh${c}`,
        access: "rw",
        hostWritable: false,
        role: "lifH",
        core: c,
      },
      { mem: mem(`wx${c}`, `expert weights, core ${c}`, geo.wxDepth, P * r.weightBits, "weights", "1rw"), prefix: `wx${c}`, access: "read", hostWritable: true, role: "expertWeights", core: c },
      { mem: mem(`bx${c}`, `expert biases, core ${c}`, geo.bxDepth, P * r.biasBits, "weights", "1rw"), prefix: `bx${c}`, access: "read", hostWritable: true, role: "expertBias", core: c },
    );
  }
  const synIncBits = unsignedBitsFor(D * Math.max(E, F) + C * P * D);
  void T;
  return {
    module: `${r.name}_moeHalf`,
    geo,
    routing: r.routing,
    core,
    router,
    routerFeeder: feederParams(`${r.name}_moeHalf_feeder`, D, rowBits),
    topk,
    lifm,
    mergeBits,
    residBits: r.residBits,
    accBits: r.accBits,
    routerSumBits: r.routerSumBits,
    blockBits: idxBits(L),
    uDepth,
    uAddrBits: idxBits(uDepth),
    uWidth: P * r.residBits,
    memories,
    synIncBits,
  };
}

// ---------------------------------------------------------------------------------------------
// Pins

export interface MoePort {
  name: string;
  dir: "input" | "output";
  width: number;
}

interface PortDecl extends MoePort {
  reg: boolean;
}

function portDecls(p: MoeHalfParams): PortDecl[] {
  const out: PortDecl[] = [];
  const add = (name: string, dir: "input" | "output", width: number, reg = false) => out.push({ name, dir, width, reg });
  add("clk", "input", 1);
  add("rst", "input", 1);
  add("start", "input", 1);
  add("cfg_block", "input", p.blockBits);
  add("busy", "output", 1);
  add("done", "output", 1, true);
  add("phase", "output", 3, true);
  for (const c of ["perf_syn", "perf_spk_s1", "perf_spk_h", "perf_routed"]) add(c, "output", 64, true);
  add("u_re", "output", 1);
  add("u_raddr", "output", p.uAddrBits);
  add("u_rdata", "input", p.uWidth);
  add("u_we", "output", 1);
  add("u_waddr", "output", p.uAddrBits);
  add("u_wdata", "output", p.uWidth);
  for (const m of p.memories) {
    add(`${m.prefix}_re`, "output", 1);
    add(`${m.prefix}_raddr`, "output", m.mem.addrBits);
    add(`${m.prefix}_rdata`, "input", m.mem.width);
    if (m.access === "rw") {
      add(`${m.prefix}_we`, "output", 1);
      add(`${m.prefix}_waddr`, "output", m.mem.addrBits);
      add(`${m.prefix}_wdata`, "output", m.mem.width);
      add(`${m.prefix}_wmask`, "output", m.mem.width);
    }
  }
  return out;
}

/** Every port of the half, in declaration order. */
export function moeHalfPorts(p: MoeHalfParams): MoePort[] {
  return portDecls(p).map(({ name, dir, width }) => ({ name, dir, width }));
}

// ---------------------------------------------------------------------------------------------
// Rendering

function lit(bits: number, v: number): string {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** bits) throw new Error(`moeHalf: constant ${v} does not fit ${bits} bits`);
  return `${bits}'d${v}`;
}

export function moeHalfContext(r: Resolved, p: MoeHalfParams) {
  const g = p.geo;
  const { T, N, D, F, E, P, C, tilesD, rows, rowBits, rowMemBits, nBits, tBits } = g;
  const uAW = p.uAddrBits;
  const lmAW = p.lifm.addrBits;
  const wrAW = p.memories.find((m) => m.prefix === "wr")!.mem.addrBits;
  const brAW = p.memories.find((m) => m.prefix === "br")!.mem.addrBits;
  const jBits = idxBits(tilesD);
  const pcBits = unsignedBitsFor(D);
  const pc = adderTree(busBits("sbufm_rdata", D), "spc");
  const hsBits = unsignedBitsFor(C * P);
  const mB = p.mergeBits;
  const ctx = {
    module: p.module,
    routerModule: p.router.module,
    feederModule: p.routerFeeder.module,
    topkModule: p.topk.module,
    lifmModule: p.lifm.module,
    coreModule: p.core.module,
    perToken: p.routing === "per-token",
    ...g,
    ports: portDecls(p).map((d, i, a) => ({ ...d, msb: d.width - 1, vec: d.width > 1 || ["cfg_block", "sbufm_rdata", "sbufm_wdata", "sbufm_wmask"].includes(d.name) /* D = 1: still indexed as vectors */, comma: i < a.length - 1 })),
    // widths
    tMsb: tBits - 1,
    nMsb: nBits - 1,
    jMsb: jBits - 1,
    rowMsb: rowBits - 1,
    rmMsb: rowMemBits - 1,
    rowsMsb: rows - 1,
    uAMsb: uAW - 1,
    uWMsb: p.uWidth - 1,
    lmAMsb: lmAW - 1,
    lmWMsb: P * p.lifm.wBits - 1,
    mmWMsb: P * mB - 1,
    mergeBits: mB,
    mergeMsb: mB - 1,
    residBits: p.residBits,
    residMsb: p.residBits - 1,
    accBits: p.accBits,
    accMsb: p.accBits - 1,
    yMsb: P * p.accBits - 1,
    zMsb: E * p.accBits - 1,
    blkMsb: p.blockBits - 1,
    wrAMsb: wrAW - 1,
    brAMsb: brAW - 1,
    wxAMsb: g.wxAddrBits - 1,
    bxAMsb: g.bxAddrBits - 1,
    slotMsb: g.slotBits - 1,
    cMsb: C - 1,
    tileIdxMsb: p.core.engine.tileIdxBits - 1,
    spkMsb: p.core.spkBits - 1,
    rFaninMsb: p.router.faninBits - 1,
    rTileMsb: p.router.tileIdxBits - 1,
    rsb: p.routerSumBits,
    rsbMsb: p.routerSumBits - 1,
    taccMsb: E * p.routerSumBits - 1,
    nLast: N - 1,
    // constants
    tLast: lit(tBits, T - 1),
    nLastLit: lit(nBits, N - 1),
    jLast: lit(jBits, tilesD - 1),
    tZero: lit(tBits, 0),
    tOne: lit(tBits, 1),
    nZero: lit(nBits, 0),
    nOne: lit(nBits, 1),
    jZero: lit(jBits, 0),
    jOne: lit(jBits, 1),
    uZero: lit(uAW, 0),
    uOne: lit(uAW, 1),
    // step from the last word of row {t, N-1} to the first of {t+1, 0}; taken modulo 2^uAW like the
    // Verilog addition (with T = 1 it only happens after the last row, when the walk ends)
    uSkip: lit(uAW, ((2 ** nBits - N) * tilesD + 1) % 2 ** uAW),
    lmZero: lit(lmAW, 0),
    lmOne: lit(lmAW, 1),
    oneC: lit(C, 1),
    tilesDLit: lit(uAW, tilesD),
    rFanin: lit(p.router.faninBits, D),
    rTiles: lit(p.router.tilesBits, 1),
    // block bases (cfg_block times a constant; constant 0 with one block)
    oneBlock: g.L === 1,
    rwbaseInit: g.L === 1 ? lit(wrAW, 0) : `${resizeU("cfg_block", p.blockBits, wrAW)} * ${lit(wrAW, D)}`,
    rbbaseInit: g.L === 1 ? lit(brAW, 0) : resizeU("cfg_block", p.blockBits, brAW),
    xwbaseInit: g.L === 1 ? lit(g.wxAddrBits, 0) : `${resizeU("cfg_block", p.blockBits, g.wxAddrBits)} * ${lit(g.wxAddrBits, g.S * g.perExpW)}`,
    xbbaseInit: g.L === 1 ? lit(g.bxAddrBits, 0) : `${resizeU("cfg_block", p.blockBits, g.bxAddrBits)} * ${lit(g.bxAddrBits, g.S * g.perExpB)}`,
    // with T = 1 the row is just n (t is always 0): a part-select of a concatenation is not Verilog-2005
    rowTN: T === 1 ? resizeU("n", nBits, rowMemBits) : resizeU("{t, n}", rowBits, rowMemBits),
    tkTagMem: resizeU("tk_tag", rowBits, rowMemBits),
    mTagU: resizeU("m_tag", rowBits, uAW),
    mTileU: resizeU("m_tile", p.core.engine.tileIdxBits, uAW),
    rTagT: `r_tag[${rowBits - 1}:${nBits}]`,
    rTagN: `r_tag[${nBits - 1}:0]`,
    // truncations that leave a bit unread (T = 1 only)
    tkTagTrunc: rowBits > rowMemBits,
    mTagTrunc: rowBits > uAW,
    tkTagUnused: rowBits > rowMemBits ? `tk_tag[${rowBits - 1}:${rowMemBits}]` : "",
    mTagUnused: rowBits > uAW ? `m_tag[${rowBits - 1}:${uAW}]` : "",
    tokPad: 2 ** nBits - N,
    tokPadLit: `${2 ** nBits - N}'d0`,
    dtiles: tilesOf(D, P).map((t) => ({ ...t, jLit: lit(jBits, t.j) })),
    // LIF_m lanes that no tile uses (D < P: the only tile is narrower than the lanes)
    lmSpkUnusedLo: Math.max(...tilesOf(D, P).map((t) => t.w)),
    hasLmSpkUnused: Math.max(...tilesOf(D, P).map((t) => t.w)) < P,
    lanes: [...Array(P).keys()].map((l) => ({
      l,
      u1Ext: sext(`u1_l${l}`, p.residBits, mB),
      yExt: sext(`y_l${l}`, p.accBits, mB),
    })),
    satMax: vlit(mB, maxS(p.residBits)),
    satMin: vlit(mB, minS(p.residBits)),
    residMax: vlit(p.residBits, maxS(p.residBits)),
    residMin: vlit(p.residBits, minS(p.residBits)),
    experts: [...Array(E).keys()].map((e) => ({
      e,
      zExt: sext(`z_e${e}`, p.accBits, p.routerSumBits),
    })),
    cores: [...Array(C).keys()].map((c) => ({
      c,
      slots: [...Array(g.S).keys()].filter((s) => s * C + c < E).map((s) => ({ s, e: s * C + c, lsb: (s * C + c) * rows, sLit: lit(g.slotBits, s) })),
      spkExt: resizeU(`c_spk[${c * p.core.spkBits} +: ${p.core.spkBits}]`, p.core.spkBits, hsBits),
      last: c === C - 1,
    })),
    eMsb: E - 1,
    pMsb: P - 1,
    dMsb: D - 1,
    ecolMsb: E * rows - 1,
    mmW: P * mB,
    tileW: p.core.engine.tileIdxBits,
    yW: P * p.accBits,
    spkW: p.core.spkBits,
    cSaddrMsb: C * rowMemBits - 1,
    cYtagMsb: C * rowBits - 1,
    cYtileMsb: C * p.core.engine.tileIdxBits - 1,
    cYdataMsb: C * P * p.accBits - 1,
    cSpkMsb: C * p.core.spkBits - 1,
    pcBits,
    pcMsb: pcBits - 1,
    pcNodes: pc.nodes,
    pcRoot: zext(pc.root.expr, pc.root.bits, pcBits),
    hsBits,
    hsMsb: hsBits - 1,
    incBits: p.synIncBits,
    incMsb: p.synIncBits - 1,
    pcToInc: resizeU("pcq", pcBits, p.synIncBits),
    hsToInc: resizeU("hq", hsBits, p.synIncBits),
    incF: lit(p.synIncBits, F),
    incE: lit(p.synIncBits, E),
    incD: lit(p.synIncBits, D),
    incZero: lit(p.synIncBits, 0),
    incTo64: resizeU("syn_inc", p.synIncBits, 64),
    pcTo64: resizeU("pcq", pcBits, 64),
    hsTo64: resizeU("hq", hsBits, 64),
    rowIdx: oneHotIndexMasks(rows, rowBits),
  };
  return ctx;
}

/** The half and every submodule (cores, engines, LIF arrays, feeders, top-k), not the memories. */
export function renderMoeHalf(r: Resolved, p: MoeHalfParams): GeneratedFile[] {
  return [
    renderVerilog(r, path.join(here, "moeHalf.v.hbs"), `${p.module}.v`, "MoE half of an encoder block (U1 -> U2)", moeHalfContext(r, p)),
    renderFeeder(r, p.routerFeeder),
    ...renderLinearEngine(r, p.router),
    ...renderTopkRouter(r, p.topk),
    ...renderLifArray(r, p.lifm),
    ...renderExpertCore(r, p.core),
  ];
}

// ---------------------------------------------------------------------------------------------
// Memory images (host-written weights and biases)

function packWord(values: number[], bits: number): bigint {
  let acc = 0n;
  const mask = (1n << BigInt(bits)) - 1n;
  for (let i = values.length - 1; i >= 0; i--) acc = (acc << BigInt(bits)) | (BigInt(values[i]) & mask);
  return acc;
}

/**
 * Contents of the weight/bias memories for a model: memory module -> words (two's complement,
 * lane 0 in the LSBs).  Layout (b = block, s = slot, e = s*C + c, base(b,s) = (b*S + s) * perExpW):
 *   wr[b*D + c]                         lane e = router.weight[e][c]      br[b] lane e = router.bias[e]
 *   wx<c>[base + j*D + c']              lane l = fc1.weight[j*P + l][c']   (0 beyond F)
 *   wx<c>[base + tilesF*D + j*F + c']   lane l = fc2.weight[j*P + l][c']   (0 beyond D)
 *   bx<c>[(b*S+s)*perExpB + j]          lane l = fc1.bias[j*P + l];  + tilesF + j: fc2.bias
 * Slots without an expert (e >= E) are zero.
 */
export function moeHalfImage(r: Resolved, p: MoeHalfParams, model: Model): Map<string, bigint[]> {
  const g = p.geo;
  const { D, F, E, L, P, C, S, tilesD, tilesF } = g;
  if (model.blocks.length !== L) throw new Error(`moeHalfImage: model has ${model.blocks.length} blocks, config says ${L}`);
  const out = new Map<string, bigint[]>();
  const get = (prefix: string) => p.memories.find((m) => m.prefix === prefix)!.mem;
  const wr = new Array<bigint>(get("wr").depth).fill(0n);
  const br = new Array<bigint>(get("br").depth).fill(0n);
  for (let b = 0; b < L; b++) {
    const rw = model.blocks[b].router;
    for (let c = 0; c < D; c++) wr[b * D + c] = packWord(rw.weight.map((row) => row[c]), r.weightBits);
    br[b] = packWord(rw.bias, r.biasBits);
  }
  out.set(get("wr").module, wr);
  out.set(get("br").module, br);
  for (let c = 0; c < C; c++) {
    const wx = new Array<bigint>(g.wxDepth).fill(0n);
    const bx = new Array<bigint>(g.bxDepth).fill(0n);
    for (let b = 0; b < L; b++) {
      for (let s = 0; s < S; s++) {
        const e = s * C + c;
        if (e >= E) continue;
        const ew = model.blocks[b].experts[e];
        const wBase = (b * S + s) * g.perExpW;
        const bBase = (b * S + s) * g.perExpB;
        const lanesOf = (j: number, out: number, f: (o: number) => number) =>
          [...Array(P).keys()].map((l) => (j * P + l < out ? f(j * P + l) : 0));
        for (let j = 0; j < tilesF; j++) {
          for (let ci = 0; ci < D; ci++) wx[wBase + j * D + ci] = packWord(lanesOf(j, F, (o) => ew.fc1.weight[o][ci]), r.weightBits);
          bx[bBase + j] = packWord(lanesOf(j, F, (o) => ew.fc1.bias[o]), r.biasBits);
        }
        for (let j = 0; j < tilesD; j++) {
          for (let ci = 0; ci < F; ci++) wx[wBase + tilesF * D + j * F + ci] = packWord(lanesOf(j, D, (o) => ew.fc2.weight[o][ci]), r.weightBits);
          bx[bBase + tilesF + j] = packWord(lanesOf(j, D, (o) => ew.fc2.bias[o]), r.biasBits);
        }
      }
    }
    out.set(get(`wx${c}`).module, wx);
    out.set(get(`bx${c}`).module, bx);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cycle model

/** What one block run costs, derived from the block's S1, sel and the expert weights. */
export interface MoeWork {
  /** S1 spikes of every row (t, n), in row order */
  s1Row: number[];
  /** per expert: its routed rows (row order) with S1 and real hidden spike counts */
  experts: ExpertWork[];
}

/**
 * The work of one block for the cycle model: recomputes LIF_h (as the golden model does)
 * to get the hidden spike count of every routed (row, expert).
 */
export function moeWork(r: Resolved, model: Model, b: number, S1: number[][][], sel: number[][][]): MoeWork {
  const { T, N, E, F, accBits } = r;
  const s1Row: number[] = [];
  for (let t = 0; t < T; t++) for (let n = 0; n < N; n++) s1Row.push(S1[t][n].reduce((a, x) => a + x, 0));
  const experts: ExpertWork[] = [];
  for (let e = 0; e < E; e++) {
    const ew = model.blocks[b].experts[e];
    const W = [...Array(N)].map(() => new Array<number>(F).fill(0));
    const w: ExpertWork = { s1: [], h: [] };
    for (let t = 0; t < T; t++)
      for (let n = 0; n < N; n++) {
        if (!sel[t][n][e]) continue;
        const h = linear(S1[t][n], ew.fc1.weight, ew.fc1.bias, accBits);
        let nh = 0;
        for (let f = 0; f < F; f++) {
          const res = lifStep(W[n][f], h[f], r.lif.hidden);
          W[n][f] = res.W;
          nh += res.S;
        }
        w.s1.push(s1Row[t * N + n]);
        w.h.push(nh);
      }
    experts.push(w);
  }
  return { s1Row, experts };
}

/** Fixed cycles of the phases (see ARCHITECTURE.md "## moeHalf", measured and asserted). */
export const MOE_PHASE_FIXED = { lifm: 3, router: 1, topk: 0, experts: 2, final: 1 } as const;

export interface MoeCycles {
  /** cycles spent in each phase (phase output = 1..5) */
  lifm: number;
  router: number;
  topk: number;
  /** per core, when it never waits for the shared sbufM port or the merge (exact for C = 1) */
  coreCycles: number[];
  /** expert phase: max over cores of coreCycles + fixed (exact for C = 1, a lower bound when C > 1) */
  experts: number;
  /**
   * upper bound of the expert phase: a core only loses a cycle to the arbiters in a cycle
   * where another core transfers (an S1 row read or a merge beat), so it finishes at most
   * `transfers` cycles after its own schedule (equal to `experts` for C = 1)
   */
  expertsMax: number;
  /** shared-port transfers of the expert phase: routed pairs (S1 reads) + routed pairs x tilesD (merge beats) */
  transfers: number;
  final: number;
  /** start sampled -> done pulse */
  total: number;
}

/**
 * Cycle model of one block run: busy cycles spent in each phase (the `phase` output), the
 * total being start-sampled edge to the done pulse.  Phases 1, 2, 3, 5 are exact; phase 4 is
 * exact for one core and bounded for several (arbitration of the shared sbufM read port and
 * of the merge can delay a core).  The work is data dependent: see moeWork().
 *   lifm    = T*N*tilesD + 3           (one umem word per cycle, then the LIF_m pipeline drains)
 *   router  = linearCycles(s1Row, 1, G) + 1
 *   topk    = N (per-token), 0 (per-step: top-k is inline with the router beats)
 *   core c  = expertCoreCycles over its slots
 *   experts = max_c core c + 2         (<= + transfers with several cores)
 *   final   = T*N*tilesD + 1
 */
export function moeHalfCycles(p: MoeHalfParams, w: MoeWork): MoeCycles {
  const g = p.geo;
  const words = g.T * g.N * g.tilesD;
  const lifm = words + MOE_PHASE_FIXED.lifm;
  const router = linearCycles(w.s1Row, 1, g.G) + MOE_PHASE_FIXED.router;
  const topk = p.routing === "per-token" ? g.N + MOE_PHASE_FIXED.topk : 0;
  const coreCycles: number[] = [];
  for (let c = 0; c < g.C; c++) {
    const slots: ExpertWork[] = [];
    for (let s = 0; s < g.S; s++) {
      const e = s * g.C + c;
      slots.push(e < g.E ? w.experts[e] : { s1: [], h: [] });
    }
    coreCycles.push(expertCoreCycles(p.core, slots));
  }
  const experts = Math.max(...coreCycles) + MOE_PHASE_FIXED.experts;
  const pairs = w.experts.reduce((a, x) => a + x.s1.length, 0);
  const transfers = pairs * (1 + g.tilesD);
  const expertsMax = g.C === 1 ? experts : experts + transfers;
  const final = words + MOE_PHASE_FIXED.final;
  return { lifm, router, topk, coreCycles, experts, expertsMax, transfers, final, total: lifm + router + topk + experts + final };
}
