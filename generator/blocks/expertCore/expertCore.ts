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
import type { Geometry, Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { lowMask, ones, oneHotIndexMasks, resizeU, ulit, zext } from "../../render/verilog.ts";
import { tilesOf } from "../../util/lanes.ts";
import type { Block } from "../block.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, unsignedBitsFor } from "../../util/bits.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { linearCycles, linearEngineParams, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// The MoE layout shared by moeHalf and expertCore (the row and tile geometry itself is r.geo)

export interface MoeLayout {
  T: number;
  N: number;
  D: number;
  F: number;
  E: number;
  k: number;
  L: number;
  /** C: physical expert cores */
  C: number;
  /** S: expert slots per core = ceil(E / C); core c runs expert s*C + c in slot s */
  S: number;
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

export function moeLayout(r: Resolved): MoeLayout {
  const { T, N, D, F, E, k, L } = r;
  const { tilesD, tilesF } = r.geo;
  const C = r.hw.expertCores;
  const S = Math.ceil(E / C);
  const perExpW = tilesF * D + tilesD * F;
  const perExpB = tilesF + tilesD;
  const wxDepth = L * S * perExpW;
  const bxDepth = L * S * perExpB;
  return { T, N, D, F, E, k, L, C, S, perExpW, perExpB, wxDepth, bxDepth, wxAddrBits: idxBits(wxDepth), bxAddrBits: idxBits(bxDepth), slotBits: idxBits(S) };
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
    module: p.module,
    dataMsb: p.dataBits - 1,
    tagMsb: p.tagBits - 1,
  });
}

// ---------------------------------------------------------------------------------------------
// expertCore

export interface ExpertCoreParams {
  module: string;
  /** the row and tile geometry (r.geo): row tags {t, n} of geo.tnBits bits, row buffers geo.rows deep, P = geo.lanes */
  geo: Geometry;
  moe: MoeLayout;
  /** the core's linear engine (fan-in max(D, F), P lanes, tag = row address) */
  engine: LinearEngineParams;
  /** LIF_h of the core's S expert slots: P lanes, trackValid, depth S*N*tilesF */
  lif: LifArrayParams;
  feeder: FeederParams;
  /** width of the core's spk_h output (real hidden spikes per cycle, 0..P) */
  spkBits: number;
  /** channels of the last hidden tile: F - (tilesF - 1) * P */
  lastFTileWidth: number;
  /** LIF_h state word of (slot s, token n, tile j): s*N*tilesF + n*tilesF + j */
  lifSlotStep: number;
  /** hbuf: rows x F bits */
  hbufDepth: number;
  hbufWidth: number;
}

export function expertCoreParams(r: Resolved): ExpertCoreParams {
  const geo = r.geo;
  const moe = moeLayout(r);
  const { D, F, S, N } = moe;
  const { lanes: P, group: G, tilesD, tilesF, tnBits } = geo;
  const engine = linearEngineParams(r, "expert", {
    inMax: Math.max(D, F),
    tilesMax: Math.max(tilesD, tilesF),
    tagBits: tnBits,
    wDepth: moe.wxDepth,
    bDepth: moe.bxDepth,
    lanes: P,
    group: G,
  });
  const lif = lifArrayParams(r, r.lif.hidden, "moeh", S * N * tilesF * P, P, true);
  return {
    module: `${r.name}_expertCore`,
    geo,
    moe,
    engine,
    lif,
    feeder: feederParams(`${r.name}_expertCore_feeder`, engine.inMax, tnBits),
    spkBits: unsignedBitsFor(P),
    lastFTileWidth: F - (tilesF - 1) * P,
    lifSlotStep: N * tilesF,
    hbufDepth: geo.rows,
    hbufWidth: F,
  };
}

export function expertCoreContext(r: Resolved, p: ExpertCoreParams) {
  const g = p.geo;
  const m = p.moe;
  const e = p.engine;
  const l = p.lif;
  const lhAW = l.addrBits;
  const inMax = e.inMax;
  const spk = adderTree(busBits("hreal", g.lanes), "hpc");
  const ftiles = tilesOf(m.F, g.lanes);
  return {
    module: p.module,
    engineModule: e.module,
    lifModule: l.module,
    feederModule: p.feeder.module,
    D: m.D,
    F: m.F,
    C: m.C,
    S: m.S,
    P: g.lanes,
    G: g.group,
    rows: g.rows,
    tilesF: g.tilesF,
    slotBits: m.slotBits,
    rowMsb: g.tnBits - 1,
    rowsMsb: g.rows - 1,
    rmMsb: g.rowAddrBits - 1,
    slotMsb: m.slotBits - 1,
    slotLast: ulit(m.slotBits, m.S - 1),
    slotOne: ulit(m.slotBits, 1),
    wAMsb: m.wxAddrBits - 1,
    bAMsb: m.bxAddrBits - 1,
    wWordMsb: e.wWordBits - 1,
    bWordMsb: e.bWordBits - 1,
    yMsb: g.lanes * r.accBits - 1,
    tileIdxMsb: e.tileIdxBits - 1,
    inMax,
    inMsb: inMax - 1,
    dMsb: m.D - 1,
    fMsb: m.F - 1,
    pMsb: g.lanes - 1,
    spkMsb: p.spkBits - 1,
    lhAMsb: lhAW - 1,
    lhWMsb: l.lanes * l.wBits - 1,
    // configuration constants of the two passes
    fc1Fanin: ulit(e.faninBits, m.D),
    fc1Tiles: ulit(e.tilesBits, g.tilesF),
    fc2Fanin: ulit(e.faninBits, m.F),
    fc2Tiles: ulit(e.tilesBits, g.tilesD),
    fc2WOff: ulit(m.wxAddrBits, g.tilesF * m.D),
    fc2BOff: ulit(m.bxAddrBits, g.tilesF),
    // slot steps (never used with one slot: printed as 0 then, so every literal fits its width)
    perExpW: ulit(m.wxAddrBits, m.S > 1 ? m.perExpW : 0),
    perExpB: ulit(m.bxAddrBits, m.S > 1 ? m.perExpB : 0),
    lifSlotStepN: p.lifSlotStep,
    lifSlotStep: ulit(lhAW, m.S > 1 ? p.lifSlotStep : 0),
    // n * tilesF in lhAW-bit (modular) arithmetic; with N = 1 (n always 0) tilesF may exceed the width
    lifTileMul: ulit(lhAW, g.tilesF % 2 ** lhAW),
    zeroLh: ulit(lhAW, 0),
    oneRows: ulit(g.rows, 1),
    // row tag -> row-buffer address, n -> LIF_h address, tile -> LIF_h address
    srcRowMem: resizeU("src_row", g.tnBits, g.rowAddrBits),
    eTagMem: resizeU("e_tag", g.tnBits, g.rowAddrBits),
    tagN: resizeU(`e_tag[${g.nBits - 1}:0]`, g.nBits, lhAW),
    tileLh: resizeU("e_tile", e.tileIdxBits, lhAW),
    sDataIn: resizeU("s_rdata", m.D, inMax),
    hDataIn: resizeU("hb_rdata", m.F, inMax),
    rowIdx: oneHotIndexMasks(g.rows, g.tnBits),
    ftiles: ftiles.map((t) => ({ lsb: t.lsb, w: t.w, wMsb: t.wMsb, tileLit: ulit(e.tileIdxBits, t.j) })),
    lastFTile: ulit(e.tileIdxBits, ftiles[ftiles.length - 1].j),
    lastFMask: lowMask(g.lanes, p.lastFTileWidth),
    fullMask: ones(g.lanes),
    spkNodes: spk.nodes.map(({ name, msb, a, b }) => ({ name, msb, a, b })),
    spkRoot: zext(spk.root.expr, spk.root.bits, p.spkBits),
    spkZero: ulit(p.spkBits, 0),
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
    else cyc += CORE_SLOT_OVERHEAD + linearCycles(w.s1, g.tilesF, g.group) + linearCycles(w.h, g.tilesD, g.group);
  }
  return cyc;
}

/**
 * The block (generator/blocks/block.ts), simulated inside moeHalf (moeHalf.test.ts).  Its
 * memories (hbuf, LIF_h state, wx, bx) exist once per core, so the half instantiates and
 * names them (prefixes hbuf<c>, lifh<c>, wx<c>, bx<c>; see moeHalfParams).
 */
export const expertCoreBlock: Block<ExpertCoreParams, void, ExpertWork[]> = {
  name: "expertCore",
  golden: "generator/model/golden.ts",
  testedBy: ["generator/blocks/moeHalf/moeHalf.test.ts"],
  params: (r) => expertCoreParams(r),
  render: renderExpertCore,
  memories: () => [],
  cycles: expertCoreCycles,
};
