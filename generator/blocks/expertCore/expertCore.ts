/**
 * expertCore — one physical expert core of the MoE half: fc1 -> LIF_h -> fc2 on one
 * linearEngine, over the rows routed to the expert only.  Also the MoE geometry shared
 * with moeHalf, the row feeder (a 2-entry prefetch FIFO between a row buffer and a
 * linear engine), adder trees, and the core's cycle model.
 * Golden model: generator/model/golden.ts (the expert loop).  Tests: ../moeHalf/moeHalf.test.ts.
 * Micro-architecture: docs/ARCHITECTURE.md, "## expertCore".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog, resizeU, zext, type GeneratedFile } from "../../render/render.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, unsignedBitsFor } from "../../util/bits.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearCycles, linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// Geometry shared by moeHalf and expertCore

export interface MoeGeometry {
  T: number;
  N: number;
  D: number;
  F: number;
  E: number;
  k: number;
  L: number;
  /** P: linear lanes (expert engines, LIF_m, LIF_h, words of umem/mmem) */
  P: number;
  /** G: token group of the linear engines */
  G: number;
  /** C: physical expert cores */
  C: number;
  /** S: expert slots per core = ceil(E / C); core c runs expert s*C + c in slot s */
  S: number;
  tBits: number;
  nBits: number;
  /** row address {t, n}: tBits + nBits */
  rowBits: number;
  /** depth of a row buffer: T << nBits */
  rows: number;
  /** address width of a row buffer: idxBits(rows) (= rowBits unless T = 1) */
  rowMemBits: number;
  tilesD: number;
  tilesF: number;
  /** weight words of one expert (fc1 then fc2) in a core's wx memory: tilesF*D + tilesD*F */
  perExpW: number;
  /** bias words of one expert in bx: tilesF + tilesD */
  perExpB: number;
  /** words of a core's wx / bx memory: L*S*perExpW, L*S*perExpB */
  wxDepth: number;
  bxDepth: number;
  wxAddrBits: number;
  bxAddrBits: number;
  slotBits: number;
}

export function moeGeometry(r: Resolved): MoeGeometry {
  const { T, N, D, F, E, k, L } = r;
  const P = r.hw.linearLanes;
  const G = r.hw.tokenGroup;
  const C = r.hw.expertCores;
  if (!Number.isInteger(C) || C < 1 || C > E) throw new Error(`moe: expertCores = ${C}; use 1..${E} (model.experts)`);
  const S = Math.ceil(E / C);
  const tBits = idxBits(T);
  const nBits = idxBits(N);
  const rows = T * 2 ** nBits;
  const tilesD = Math.ceil(D / P);
  const tilesF = Math.ceil(F / P);
  const perExpW = tilesF * D + tilesD * F;
  const perExpB = tilesF + tilesD;
  const wxDepth = L * S * perExpW;
  const bxDepth = L * S * perExpB;
  return {
    T,
    N,
    D,
    F,
    E,
    k,
    L,
    P,
    G,
    C,
    S,
    tBits,
    nBits,
    rowBits: tBits + nBits,
    rows,
    rowMemBits: idxBits(rows),
    tilesD,
    tilesF,
    perExpW,
    perExpB,
    wxDepth,
    bxDepth,
    wxAddrBits: idxBits(wxDepth),
    bxAddrBits: idxBits(bxDepth),
    slotBits: idxBits(S),
  };
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers (TS decides every width; these only print)

/** Unsigned literal `bits'dv`, checked to fit. */
export function ulit(bits: number, v: number): string {
  if (!Number.isSafeInteger(v) || v < 0 || v >= 2 ** bits) throw new Error(`constant ${v} does not fit ${bits} bits`);
  return `${bits}'d${v}`;
}

/** OR-masks that turn a one-hot vector of `n` bits into its binary index (`bits` wide). */
export function oneHotIndexMasks(n: number, bits: number): { b: number; mask: string; zero: boolean }[] {
  return [...Array(bits).keys()].map((b) => {
    let m = 0n;
    for (let i = 0; i < n; i++) if ((i >> b) & 1) m |= 1n << BigInt(i);
    return { b, mask: `${n}'h${m.toString(16)}`, zero: m === 0n };
  });
}

/** The tiles of a vector of `width` channels cut into words of `lanes`: lsb and real width of each. */
export function tilesOf(width: number, lanes: number): { j: number; lsb: number; w: number; wMsb: number }[] {
  const n = Math.ceil(width / lanes);
  return [...Array(n).keys()].map((j) => {
    const w = Math.min(lanes, width - j * lanes);
    return { j, lsb: j * lanes, w, wMsb: w - 1 };
  });
}

// ---------------------------------------------------------------------------------------------
// Row feeder

export interface FeederParams {
  module: string;
  /** width of a row (spike bits) */
  dataBits: number;
  /** width of the row tag (row address {t, n}) */
  tagBits: number;
}

export function feederParams(module: string, dataBits: number, tagBits: number): FeederParams {
  return { module, dataBits, tagBits };
}

export function renderFeeder(r: Resolved, p: FeederParams): GeneratedFile {
  return renderVerilog(r, path.join(here, "feeder.v.hbs"), `${p.module}.v`, "row feeder (2-entry prefetch FIFO)", {
    ...p,
    dataMsb: p.dataBits - 1,
    tagMsb: p.tagBits - 1,
  });
}

// ---------------------------------------------------------------------------------------------
// expertCore

export interface ExpertCoreParams {
  module: string;
  geo: MoeGeometry;
  /** the core's linear engine (fan-in max(D, F), P lanes, tag = row address) */
  engine: LinearEngineParams;
  /** LIF_h of the core's S expert slots: P lanes, trackValid, depth S*N*tilesF */
  lif: LifArrayParams;
  feeder: FeederParams;
  /** width of the core's spk_h output (real hidden spikes per cycle, 0..P) */
  spkBits: number;
  /** LIF_h state word of (slot s, token n, tile j): s*N*tilesF + n*tilesF + j */
  lifSlotStep: number;
  /** hbuf: rows x F bits */
  hbufDepth: number;
  hbufWidth: number;
}

export function expertCoreParams(r: Resolved): ExpertCoreParams {
  const geo = moeGeometry(r);
  const { D, F, P, G, S, N, tilesD, tilesF, rowBits } = geo;
  const engine = linearEngineParams(r, "expert", {
    inMax: Math.max(D, F),
    tilesMax: Math.max(tilesD, tilesF),
    tagBits: rowBits,
    wDepth: geo.wxDepth,
    bDepth: geo.bxDepth,
    lanes: P,
    group: G,
  });
  const lif = lifArrayParams(r, r.lif.hidden, "moeh", S * N * tilesF * P, P, true);
  return {
    module: `${r.name}_expertCore`,
    geo,
    engine,
    lif,
    feeder: feederParams(`${r.name}_expertCore_feeder`, engine.inMax, rowBits),
    spkBits: unsignedBitsFor(P),
    lifSlotStep: N * tilesF,
    hbufDepth: geo.rows,
    hbufWidth: F,
  };
}

export function expertCoreContext(r: Resolved, p: ExpertCoreParams) {
  const g = p.geo;
  const e = p.engine;
  const l = p.lif;
  const lhAW = l.addrBits;
  const inMax = e.inMax;
  const spk = adderTree(busBits("hreal", g.P), "hpc");
  const ftiles = tilesOf(g.F, g.P);
  const lastF = ftiles[ftiles.length - 1];
  let lastMask = 0n;
  for (let i = 0; i < lastF.w; i++) lastMask |= 1n << BigInt(i);
  return {
    module: p.module,
    engineModule: e.module,
    lifModule: l.module,
    feederModule: p.feeder.module,
    ...g,
    rowMsb: g.rowBits - 1,
    rowsMsb: g.rows - 1,
    rmMsb: g.rowMemBits - 1,
    nMsb: g.nBits - 1,
    slotMsb: g.slotBits - 1,
    slotLast: ulit(g.slotBits, g.S - 1),
    slotOne: `${g.slotBits}'d1`,
    wAW: g.wxAddrBits,
    wAMsb: g.wxAddrBits - 1,
    bAMsb: g.bxAddrBits - 1,
    wWordMsb: e.wWordBits - 1,
    bWordMsb: e.bWordBits - 1,
    yMsb: g.P * r.accBits - 1,
    tileIdxMsb: e.tileIdxBits - 1,
    faninMsb: e.faninBits - 1,
    tilesMsb: e.tilesBits - 1,
    inMax,
    inMsb: inMax - 1,
    dMsb: g.D - 1,
    fMsb: g.F - 1,
    pMsb: g.P - 1,
    spkMsb: p.spkBits - 1,
    lhAMsb: lhAW - 1,
    lhWMsb: l.lanes * l.wBits - 1,
    // configuration constants of the two passes
    fc1Fanin: ulit(e.faninBits, g.D),
    fc1Tiles: ulit(e.tilesBits, g.tilesF),
    fc2Fanin: ulit(e.faninBits, g.F),
    fc2Tiles: ulit(e.tilesBits, g.tilesD),
    fc2WOff: ulit(g.wxAddrBits, g.tilesF * g.D),
    fc2BOff: ulit(g.bxAddrBits, g.tilesF),
    // slot steps (never used with one slot: printed as 0 then, so every literal fits its width)
    perExpW: ulit(g.wxAddrBits, g.S > 1 ? g.perExpW : 0),
    perExpB: ulit(g.bxAddrBits, g.S > 1 ? g.perExpB : 0),
    lifSlotStepN: p.lifSlotStep,
    lifSlotStep: ulit(lhAW, g.S > 1 ? p.lifSlotStep : 0),
    // n * tilesF in lhAW-bit (modular) arithmetic; with N = 1 (n always 0) tilesF may exceed the width
    lifTileMul: ulit(lhAW, g.tilesF % 2 ** lhAW),
    zeroLh: `${lhAW}'d0`,
    oneRows: `${g.rows}'d1`,
    zeroRows: `${g.rows}'d0`,
    // row address -> row-buffer address, n -> LIF_h address, tile -> LIF_h address
    srcRowMem: resizeU("src_row", g.rowBits, g.rowMemBits),
    eTagMem: resizeU("e_tag", g.rowBits, g.rowMemBits),
    tagN: resizeU(`e_tag[${g.nBits - 1}:0]`, g.nBits, lhAW),
    tileLh: resizeU("e_tile", e.tileIdxBits, lhAW),
    sDataIn: resizeU("s_rdata", g.D, inMax),
    hDataIn: resizeU("hb_rdata", g.F, inMax),
    rowIdx: oneHotIndexMasks(g.rows, g.rowBits),
    ftiles: ftiles.map((t) => ({ ...t, tileLit: `${e.tileIdxBits}'d${t.j}` })),
    lastFTile: `${e.tileIdxBits}'d${lastF.j}`,
    lastFMask: `${g.P}'h${lastMask.toString(16)}`,
    fullMask: `{${g.P}{1'b1}}`,
    spkNodes: spk.nodes,
    spkRoot: zext(spk.root.expr, spk.root.bits, p.spkBits),
    spkZero: `${p.spkBits}'d0`,
  };
}

/** The core, its engine, its LIF_h array and its feeder (no memory). */
export function renderExpertCore(r: Resolved, p: ExpertCoreParams): GeneratedFile[] {
  return [
    renderVerilog(r, path.join(here, "expertCore.v.hbs"), `${p.module}.v`, "MoE expert core (fc1 -> LIF_h -> fc2)", expertCoreContext(r, p)),
    ...renderLinearEngine(r, p.engine),
    ...renderLifArray(r, p.lif),
    renderFeeder(r, p.feeder),
  ];
}

// ---------------------------------------------------------------------------------------------
// Cycle model

/** Work of one expert in one block: the routed rows in row order with their spike counts. */
export interface ExpertWork {
  /** S1 spikes (fan-in D) of each routed row, in increasing row address */
  s1: number[];
  /** real hidden spikes (fan-in F) of each routed row */
  h: number[];
}

/** Cycles a core spends on a slot whose expert has no routed row (S_SLOT, then the next slot). */
export const CORE_EMPTY_SLOT = 1;
/**
 * Fixed cycles per non-empty slot around its two engine layers: S_SLOT (fc1 start) 1, the
 * first fc1 row's read 1, S_MID (fc2 start) 1, the first fc2 row's read 1.
 */
export const CORE_SLOT_OVERHEAD = 4;

/**
 * Cycles of one core for one block when it never waits for a shared port (exact for one
 * core; a lower bound with several): from its first S_SLOT cycle to its last busy cycle
 * (inclusive) = the sum over its slots of CORE_EMPTY_SLOT for an expert without routed
 * rows, else CORE_SLOT_OVERHEAD + linearCycles(fc1 rows, tilesF) + linearCycles(fc2 rows, tilesD).
 */
export function expertCoreCycles(p: Pick<ExpertCoreParams, "geo">, slots: ExpertWork[]): number {
  const g = p.geo;
  let cyc = 0;
  for (const w of slots) {
    if (w.s1.length === 0) cyc += CORE_EMPTY_SLOT;
    else cyc += CORE_SLOT_OVERHEAD + linearCycles(w.s1, g.tilesF, g.G) + linearCycles(w.h, g.tilesD, g.G);
  }
  return cyc;
}
