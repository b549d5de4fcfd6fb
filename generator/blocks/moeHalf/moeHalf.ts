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
import type { Geometry, Resolved } from "../../config/resolve.ts";
import type { Model } from "../../model/golden.ts";
import { renderVerilog } from "../../render/render.ts";
import { resizeU, sext, slit, ulit, zext } from "../../render/verilog.ts";
import { packLanes, tilesOf } from "../../util/lanes.ts";
import { memoryPins, type Block, type BlockMemory, type PortDecl } from "../block.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, maxS, minS, signedBitsFor, unsignedBitsFor } from "../../util/bits.ts";
import { lifStep } from "../lifArray/golden.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearCycles, linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import { linear } from "../linearEngine/golden.ts";
import { logicalMemory, residualMemory, type LogicalMemory, type MemKind, type MemPorts } from "../memory/ram1r1w.ts";
import { renderTopkRouter, topkRouterParams, type TopkRouterParams } from "../topkRouter/topkRouter.ts";
import type { GeneratedFile } from "../../core/files.ts";
import {
  expertCoreCycles,
  expertCoreParams,
  feederParams,
  moeLayout,
  renderExpertCore,
  renderFeeder,
  type ExpertCoreParams,
  type ExpertWork,
  type FeederParams,
  type MoeLayout,
} from "../expertCore/expertCore.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface MoeHalfParams {
  module: string;
  /** the row and tile geometry (r.geo): row tags {t, n} of geo.tnBits bits, row buffers geo.rows deep (geo.rowAddrBits address bits), P = geo.lanes */
  geo: Geometry;
  /** shapes, expert cores and slots, and the expert weight layout (moeLayout) */
  moe: MoeLayout;
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
  /** width of the umem / mmem tile index j (idxBits(tilesD)) */
  jBits: number;
  /** width of the popcount of an S1 row (holds 0..D) */
  pcBits: number;
  /** width of the hidden-spike sum over the cores in one cycle (holds 0..C*P) */
  hsBits: number;
  /** the shared residual memory the u_* port expects (instantiated and muxed by the top, not owned) */
  umem: LogicalMemory;
  /** every memory the half owns or reads (umem excluded), in port order */
  memories: BlockMemory[];
  /** width of the per-cycle synaptic-op increment */
  synIncBits: number;
}

export function moeHalfParams(r: Resolved): MoeHalfParams {
  const geo = r.geo;
  const moe = moeLayout(r);
  const { D, F, E, k, L, C, N } = moe;
  const { lanes: P, group: G, rows, tilesD, tnBits, nBits } = geo;
  const core = expertCoreParams(r);
  const router = linearEngineParams(r, "router", { inMax: D, tilesMax: 1, tagBits: tnBits, wDepth: L * D, bDepth: L, lanes: E, group: G });
  const perToken = r.routing === "per-token";
  const topk = topkRouterParams(r, perToken ? { zBits: r.routerSumBits, tagBits: nBits } : { zBits: r.accBits, tagBits: tnBits });
  const lifm = lifArrayParams(r, r.lif.shortcut, "moem", N * tilesD * P, P, false);
  const mergeBits = signedBitsFor(minS(r.residBits) + k * minS(r.accBits), maxS(r.residBits) + k * maxS(r.accBits));
  const mem = (suffix: string, label: string, depth: number, width: number, kind: MemKind, ports: MemPorts) =>
    logicalMemory(`${r.name}_moe_${suffix}`, label, depth, width, { kind, ports });
  const memories: BlockMemory[] = [
    { mem: mem("sbufm", "S1 spike rows (sbufM)", rows, D, "spikes", "1rw"), prefix: "sbufm", access: "rw", hostWritable: false, role: "sbufM" },
    { mem: mem("lifm_state", "LIF_m membrane state", lifm.depth, P * lifm.wBits, "state", "1r1w"), prefix: "lifm", access: "rw", hostWritable: false, role: "lifM" },
    { mem: mem("mmem", "MoE merge accumulators", geo.umemDepth, P * mergeBits, "residual", "1r1w"), prefix: "mmem", access: "rw", hostWritable: false, role: "mmem" },
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
      { mem: mem(`wx${c}`, `expert weights, core ${c}`, moe.wxDepth, P * r.weightBits, "weights", "1rw"), prefix: `wx${c}`, access: "read", hostWritable: true, role: "expertWeights", core: c },
      { mem: mem(`bx${c}`, `expert biases, core ${c}`, moe.bxDepth, P * r.biasBits, "weights", "1rw"), prefix: `bx${c}`, access: "read", hostWritable: true, role: "expertBias", core: c },
    );
  }
  return {
    module: `${r.name}_moeHalf`,
    geo,
    moe,
    routing: r.routing,
    core,
    router,
    routerFeeder: feederParams(`${r.name}_moeHalf_feeder`, D, tnBits),
    topk,
    lifm,
    mergeBits,
    residBits: r.residBits,
    accBits: r.accBits,
    routerSumBits: r.routerSumBits,
    blockBits: idxBits(L),
    jBits: idxBits(tilesD),
    pcBits: unsignedBitsFor(D),
    hsBits: unsignedBitsFor(C * P),
    umem: residualMemory(r),
    memories,
    synIncBits: unsignedBitsFor(D * Math.max(E, F) + C * P * D),
  };
}

// ---------------------------------------------------------------------------------------------
// Pins

/** Every port of the half, in declaration order, and whether the half drives it from a reg. */
function portDecls(p: MoeHalfParams): (PortDecl & { reg: boolean })[] {
  const out: (PortDecl & { reg: boolean })[] = [];
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
  add("u_raddr", "output", p.umem.addrBits);
  add("u_rdata", "input", p.umem.width);
  add("u_we", "output", 1);
  add("u_waddr", "output", p.umem.addrBits);
  add("u_wdata", "output", p.umem.width);
  for (const m of p.memories) for (const q of memoryPins(m)) out.push({ ...q, reg: false });
  return out;
}

/** Every port of the half, in declaration order. */
export function moeHalfPorts(p: MoeHalfParams): PortDecl[] {
  return portDecls(p).map(({ name, dir, width }) => ({ name, dir, width }));
}

// ---------------------------------------------------------------------------------------------
// Rendering

export function moeHalfContext(r: Resolved, p: MoeHalfParams) {
  const g = p.geo;
  const m = p.moe;
  const { T, N, D, F, E, C } = m;
  const { lanes: P, tilesD, rows, tnBits, rowAddrBits, nBits, tBits } = g;
  const uAW = p.umem.addrBits;
  const lmAW = p.lifm.addrBits;
  const wrAW = p.memories.find((x) => x.prefix === "wr")!.mem.addrBits;
  const brAW = p.memories.find((x) => x.prefix === "br")!.mem.addrBits;
  const { jBits, pcBits, hsBits } = p;
  const pc = adderTree(busBits("sbufm_rdata", D), "spc");
  const mB = p.mergeBits;
  const tileW = p.core.engine.tileIdxBits;
  const yW = P * p.accBits;
  const spkW = p.core.spkBits;
  const dtiles = tilesOf(D, P);
  const lmUsed = Math.max(...dtiles.map((t) => t.w));
  return {
    module: p.module,
    routerModule: p.router.module,
    feederModule: p.routerFeeder.module,
    topkModule: p.topk.module,
    lifmModule: p.lifm.module,
    coreModule: p.core.module,
    perToken: p.routing === "per-token",
    T,
    N,
    D,
    F,
    E,
    k: m.k,
    C,
    S: m.S,
    P,
    tilesD,
    rows,
    tnBits,
    rowAddrBits,
    perExpW: m.perExpW,
    ports: portDecls(p).map((d, i, a) => ({ name: d.name, dir: d.dir, reg: d.reg, msb: d.width - 1, vec: d.width > 1 || ["cfg_block", "sbufm_rdata", "sbufm_wdata", "sbufm_wmask"].includes(d.name) /* D = 1: still indexed as vectors */, comma: i < a.length - 1 })),
    // widths
    tMsb: tBits - 1,
    nMsb: nBits - 1,
    jMsb: jBits - 1,
    rowMsb: tnBits - 1,
    rmMsb: rowAddrBits - 1,
    rowsMsb: rows - 1,
    uAMsb: uAW - 1,
    lmAMsb: lmAW - 1,
    mmWMsb: P * mB - 1,
    mergeBits: mB,
    mergeMsb: mB - 1,
    residBits: p.residBits,
    residMsb: p.residBits - 1,
    accBits: p.accBits,
    accMsb: p.accBits - 1,
    yMsb: yW - 1,
    zMsb: E * p.accBits - 1,
    wrAMsb: wrAW - 1,
    brAMsb: brAW - 1,
    wxAMsb: m.wxAddrBits - 1,
    bxAMsb: m.bxAddrBits - 1,
    slotMsb: m.slotBits - 1,
    cMsb: C - 1,
    tileIdxMsb: tileW - 1,
    rTileMsb: p.router.tileIdxBits - 1,
    rsb: p.routerSumBits,
    taccMsb: E * p.routerSumBits - 1,
    nLast: N - 1,
    // constants
    tLast: ulit(tBits, T - 1),
    nLastLit: ulit(nBits, N - 1),
    jLast: ulit(jBits, tilesD - 1),
    tZero: ulit(tBits, 0),
    tOne: ulit(tBits, 1),
    nZero: ulit(nBits, 0),
    nOne: ulit(nBits, 1),
    jZero: ulit(jBits, 0),
    jOne: ulit(jBits, 1),
    uZero: ulit(uAW, 0),
    uOne: ulit(uAW, 1),
    // step from the last word of row {t, N-1} to the first of {t+1, 0}; taken modulo 2^uAW like the
    // Verilog addition (with T = 1 it only happens after the last row, when the walk ends)
    uSkip: ulit(uAW, ((2 ** nBits - N) * tilesD + 1) % 2 ** uAW),
    lmZero: ulit(lmAW, 0),
    lmOne: ulit(lmAW, 1),
    oneC: ulit(C, 1),
    tilesDLit: ulit(uAW, tilesD),
    rFanin: ulit(p.router.faninBits, D),
    rTiles: ulit(p.router.tilesBits, 1),
    rsbZero: ulit(p.routerSumBits, 0),
    rowsZero: ulit(rows, 0),
    // block bases (cfg_block times a constant; constant 0 with one block)
    oneBlock: m.L === 1,
    rwbaseInit: m.L === 1 ? ulit(wrAW, 0) : `${resizeU("cfg_block", p.blockBits, wrAW)} * ${ulit(wrAW, D)}`,
    rbbaseInit: m.L === 1 ? ulit(brAW, 0) : resizeU("cfg_block", p.blockBits, brAW),
    xwbaseInit: m.L === 1 ? ulit(m.wxAddrBits, 0) : `${resizeU("cfg_block", p.blockBits, m.wxAddrBits)} * ${ulit(m.wxAddrBits, m.S * m.perExpW)}`,
    xbbaseInit: m.L === 1 ? ulit(m.bxAddrBits, 0) : `${resizeU("cfg_block", p.blockBits, m.bxAddrBits)} * ${ulit(m.bxAddrBits, m.S * m.perExpB)}`,
    // with T = 1 the row is just n (t is always 0): a part-select of a concatenation is not Verilog-2005
    rowTN: T === 1 ? resizeU("n", nBits, rowAddrBits) : resizeU("{t, n}", tnBits, rowAddrBits),
    tkTagMem: resizeU("tk_tag", tnBits, rowAddrBits),
    mTagU: resizeU("m_tag", tnBits, uAW),
    mTileU: resizeU("m_tile", tileW, uAW),
    rTagT: `r_tag[${tnBits - 1}:${nBits}]`,
    rTagN: `r_tag[${nBits - 1}:0]`,
    // truncations that leave a bit unread (T = 1 only)
    tkTagTrunc: tnBits > rowAddrBits,
    mTagTrunc: tnBits > uAW,
    ...(tnBits > rowAddrBits ? { tkTagUnused: `tk_tag[${tnBits - 1}:${rowAddrBits}]` } : {}),
    ...(tnBits > uAW ? { mTagUnused: `m_tag[${tnBits - 1}:${uAW}]` } : {}),
    tokPad: 2 ** nBits - N,
    ...(2 ** nBits > N ? { tokPadLit: ulit(2 ** nBits - N, 0) } : {}),
    dtiles: dtiles.map((t) => ({ lsb: t.lsb, w: t.w, wMsb: t.wMsb, jLit: ulit(jBits, t.j) })),
    // LIF_m lanes that no tile uses (D < P: the only tile is narrower than the lanes)
    lmSpkUnusedLo: lmUsed,
    hasLmSpkUnused: lmUsed < P,
    lanes: [...Array(P).keys()].map((l) => ({
      l,
      uLsb: l * p.residBits,
      mLsb: l * mB,
      yLsb: l * p.accBits,
      u1Ext: sext(`u1_l${l}`, p.residBits, mB),
      yExt: sext(`y_l${l}`, p.accBits, mB),
    })),
    satMax: slit(mB, maxS(p.residBits)),
    satMin: slit(mB, minS(p.residBits)),
    residMax: slit(p.residBits, maxS(p.residBits)),
    residMin: slit(p.residBits, minS(p.residBits)),
    experts: [...Array(E).keys()].map((e) => ({
      e,
      zLsb: e * p.accBits,
      sLsb: e * p.routerSumBits,
      zExt: sext(`z_e${e}`, p.accBits, p.routerSumBits),
    })),
    cores: [...Array(C).keys()].map((c) => ({
      c,
      slots: [...Array(m.S).keys()].filter((s) => s * C + c < E).map((s) => ({ e: s * C + c, lsb: (s * C + c) * rows, sLit: ulit(m.slotBits, s) })),
      spkExt: resizeU(`c_spk[${c * spkW} +: ${spkW}]`, spkW, hsBits),
      saddrLsb: c * rowAddrBits,
      ytagLsb: c * tnBits,
      ytileLsb: c * tileW,
      ydataLsb: c * yW,
      spkLsb: c * spkW,
      last: c === C - 1,
    })),
    eMsb: E - 1,
    pMsb: P - 1,
    dMsb: D - 1,
    ecolMsb: E * rows - 1,
    mmW: P * mB,
    tileW,
    yW,
    spkW,
    cSaddrMsb: C * rowAddrBits - 1,
    cYtagMsb: C * tnBits - 1,
    cYtileMsb: C * tileW - 1,
    cYdataMsb: C * yW - 1,
    cSpkMsb: C * spkW - 1,
    pcMsb: pcBits - 1,
    pcNodes: pc.nodes.map(({ name, msb, a, b }) => ({ name, msb, a, b })),
    pcRoot: zext(pc.root.expr, pc.root.bits, pcBits),
    hsBits,
    hsMsb: hsBits - 1,
    incMsb: p.synIncBits - 1,
    pcToInc: resizeU("pcq", pcBits, p.synIncBits),
    hsToInc: resizeU("hq", hsBits, p.synIncBits),
    incF: ulit(p.synIncBits, F),
    incE: ulit(p.synIncBits, E),
    incD: ulit(p.synIncBits, D),
    incZero: ulit(p.synIncBits, 0),
    incTo64: resizeU("syn_inc", p.synIncBits, 64),
    pcTo64: resizeU("pcq", pcBits, 64),
    hsTo64: resizeU("hq", hsBits, 64),
  };
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
  const g = p.moe;
  const { D, F, E, L, C, S } = g;
  const { lanes: P, tilesD, tilesF } = p.geo;
  if (model.blocks.length !== L) throw new Error(`moeHalfImage: model has ${model.blocks.length} blocks, config says ${L}`);
  const out = new Map<string, bigint[]>();
  const get = (prefix: string) => p.memories.find((m) => m.prefix === prefix)!.mem;
  const wr = new Array<bigint>(get("wr").depth).fill(0n);
  const br = new Array<bigint>(get("br").depth).fill(0n);
  for (let b = 0; b < L; b++) {
    const rw = model.blocks[b].router;
    for (let c = 0; c < D; c++) wr[b * D + c] = packLanes(rw.weight.map((row) => row[c]), r.weightBits);
    br[b] = packLanes(rw.bias, r.biasBits);
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
          for (let ci = 0; ci < D; ci++) wx[wBase + j * D + ci] = packLanes(lanesOf(j, F, (o) => ew.fc1.weight[o][ci]), r.weightBits);
          bx[bBase + j] = packLanes(lanesOf(j, F, (o) => ew.fc1.bias[o]), r.biasBits);
        }
        for (let j = 0; j < tilesD; j++) {
          for (let ci = 0; ci < F; ci++) wx[wBase + tilesF * D + j * F + ci] = packLanes(lanesOf(j, D, (o) => ew.fc2.weight[o][ci]), r.weightBits);
          bx[bBase + tilesF + j] = packLanes(lanesOf(j, D, (o) => ew.fc2.bias[o]), r.biasBits);
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
  const g = p.moe;
  const words = g.T * g.N * p.geo.tilesD;
  const lifm = words + MOE_PHASE_FIXED.lifm;
  const router = linearCycles(w.s1Row, 1, p.geo.group) + MOE_PHASE_FIXED.router;
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
  const transfers = pairs * (1 + p.geo.tilesD);
  const expertsMax = g.C === 1 ? experts : experts + transfers;
  const final = words + MOE_PHASE_FIXED.final;
  return { lifm, router, topk, coreCycles, experts, expertsMax, transfers, final, total: lifm + router + topk + experts + final };
}

/** The block (generator/blocks/block.ts); the top lists it in TOP_BLOCKS. */
export const moeHalfBlock: Block<MoeHalfParams, void, MoeWork, MoeCycles> = {
  name: "moeHalf",
  golden: "generator/model/golden.ts",
  testedBy: ["generator/blocks/moeHalf/moeHalf.test.ts"],
  params: (r) => moeHalfParams(r),
  render: renderMoeHalf,
  memories: (p) => p.memories,
  images: moeHalfImage,
  cycles: moeHalfCycles,
};
