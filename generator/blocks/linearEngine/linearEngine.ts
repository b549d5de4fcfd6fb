/**
 * linearEngine — event-driven spike x weight accumulate (SPEC §1.2) with P output lanes
 * and G-row token groups.  Parameters, derivation, rendering and the cycle model.
 * Golden model: ./golden.ts.  Testbench: ./linearEngine_tb.v.hbs.  Tests: ./linearEngine.test.ts.
 * Micro-architecture: docs/ARCHITECTURE.md, section "linearEngine".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { ones, oneHotIndexMasks, resizeU, sext, slit, ulit } from "../../render/verilog.ts";
import { idxBits, maxS, minS, unsignedBitsFor } from "../../util/bits.ts";
import type { Block } from "../block.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface LinearEngineOptions {
  /** widest fan-in (input channels) any layer served by this instance has */
  inMax: number;
  /** most output tiles (ceil(out / lanes)) any layer has */
  tilesMax: number;
  /** width of the row tag carried from row_tag to out_tag */
  tagBits: number;
  /** words of the weight memory (each lanes x weightBits) */
  wDepth: number;
  /** words of the bias memory (each lanes x biasBits) */
  bDepth: number;
  /** P, output channels in parallel (default hw.poolLanes) */
  lanes?: number;
  /** G, rows per token group (default hw.tokenGroup) */
  group?: number;
}

export interface LinearEngineParams {
  module: string;
  tag: string;
  inMax: number;
  tilesMax: number;
  tagBits: number;
  wDepth: number;
  bDepth: number;
  /** P */
  lanes: number;
  /** G */
  group: number;
  weightBits: number;
  biasBits: number;
  accBits: number;
  /** exact accumulator width: r.linearSumBits(inMax) (bias + inMax weights) */
  sumBits: number;
  /** accumulator wider than the output: the drain saturates (else it sign-extends) */
  saturate: boolean;
  /** cfg_fanin width (holds 1..inMax) */
  faninBits: number;
  /** input-channel index width */
  colBits: number;
  /** cfg_tiles width (holds 1..tilesMax) */
  tilesBits: number;
  /** out_tile / tile-counter width (holds 0..tilesMax-1) */
  tileIdxBits: number;
  wAddrBits: number;
  bAddrBits: number;
  /** weight word: lanes x weightBits */
  wWordBits: number;
  /** bias word: lanes x biasBits */
  bWordBits: number;
}

/**
 * Derive every width of one linear engine instance.
 * @param tag module-name suffix, unique within the design (e.g. "qkv", "e0")
 */
export function linearEngineParams(r: Resolved, tag: string, o: LinearEngineOptions): LinearEngineParams {
  const lanes = o.lanes ?? r.hw.poolLanes;
  const group = o.group ?? r.hw.tokenGroup;
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw new Error(`linearEngine ${tag}: ${msg}`);
  };
  for (const [k, v] of Object.entries({ inMax: o.inMax, tilesMax: o.tilesMax, tagBits: o.tagBits, wDepth: o.wDepth, bDepth: o.bDepth, lanes, group }))
    need(Number.isInteger(v) && v >= 1, `${k} must be an integer >= 1 (got ${v})`);
  need(o.wDepth >= o.inMax, `wDepth (${o.wDepth}) must hold at least one tile of the widest fan-in (inMax = ${o.inMax})`);
  const sumBits = r.linearSumBits(o.inMax);
  need(sumBits > r.weightBits && sumBits > r.biasBits, `internal: accumulator width ${sumBits} below weight/bias width`);
  const wAddrBits = idxBits(o.wDepth);
  const colBits = idxBits(o.inMax);
  return {
    module: `${r.name}_linearEngine_${tag}`,
    tag,
    inMax: o.inMax,
    tilesMax: o.tilesMax,
    tagBits: o.tagBits,
    wDepth: o.wDepth,
    bDepth: o.bDepth,
    lanes,
    group,
    weightBits: r.weightBits,
    biasBits: r.biasBits,
    accBits: r.accBits,
    sumBits,
    saturate: sumBits > r.accBits,
    faninBits: unsignedBitsFor(o.inMax),
    colBits,
    tilesBits: unsignedBitsFor(o.tilesMax),
    tileIdxBits: idxBits(o.tilesMax),
    wAddrBits,
    bAddrBits: idxBits(o.bDepth),
    wWordBits: lanes * r.weightBits,
    bWordBits: lanes * r.biasBits,
  };
}

export function linearEngineContext(p: LinearEngineParams) {
  const S = p.sumBits;
  return {
    module: p.module,
    tag: p.tag,
    inMax: p.inMax,
    tilesMax: p.tilesMax,
    tagBits: p.tagBits,
    lanes: p.lanes,
    group: p.group,
    weightBits: p.weightBits,
    biasBits: p.biasBits,
    accBits: p.accBits,
    sumBits: S,
    saturate: p.saturate,
    tileIdxBits: p.tileIdxBits,
    inMsb: p.inMax - 1,
    grpMsb: p.group - 1,
    tagMsb: p.tagBits - 1,
    faninMsb: p.faninBits - 1,
    colMsb: p.colBits - 1,
    tilesMsb: p.tilesBits - 1,
    tileIdxMsb: p.tileIdxBits - 1,
    wAddrMsb: p.wAddrBits - 1,
    bAddrMsb: p.bAddrBits - 1,
    wWordMsb: p.wWordBits - 1,
    bWordMsb: p.bWordBits - 1,
    sumMsb: S - 1,
    accMsb: p.accBits - 1,
    wMsb: p.weightBits - 1,
    bMsb: p.biasBits - 1,
    laneSumBits: p.lanes * S,
    laneSumMsb: p.lanes * S - 1,
    /** the G accumulator rows and their tags, flattened */
    accAllMsb: p.group * p.lanes * S - 1,
    tagAllMsb: p.group * p.tagBits - 1,
    outBusMsb: p.lanes * p.accBits - 1,
    /** the last row of a group is row G-1 */
    grpLast: p.group - 1,
    groupIsOne: p.group === 1,
    one: {
      in: ulit(p.inMax, 1),
      grp: ulit(p.group, 1),
      tiles: ulit(p.tilesBits, 1),
      bAddr: ulit(p.bAddrBits, 1),
      tileIdx: ulit(p.tileIdxBits, 1),
    },
    zero: { in: ulit(p.inMax, 0), laneSum: ulit(p.lanes * S, 0), tag: ulit(p.tagBits, 0) },
    ones: { in: ones(p.inMax) },
    /** column index zero-extended to the weight address */
    colToAddr: resizeU("col", p.colBits, p.wAddrBits),
    /** cfg_fanin as the weight-address step between tiles (mod 2^wAddrBits) */
    faninToStep: resizeU("cfg_fanin", p.faninBits, p.wAddrBits),
    /** tile index widened to the cfg_tiles width (tileIdxBits <= tilesBits) */
    tileToTiles: resizeU("tile", p.tileIdxBits, p.tilesBits),
    sextW: sext("wl", p.weightBits, S),
    sextB: sext("bl", p.biasBits, S),
    // the drain saturates a wider accumulator, or sign-extends a narrower one
    ...(p.saturate
      ? { accMaxS: slit(S, maxS(p.accBits)), accMinS: slit(S, minS(p.accBits)), accMax: slit(p.accBits, maxS(p.accBits)), accMin: slit(p.accBits, minS(p.accBits)) }
      : { sextAcc: sext("v", S, p.accBits) }),
    /** column-index bit b is the OR of the one-hot column over the indices that have bit b set */
    colIdxBits: oneHotIndexMasks(p.inMax, p.colBits).map(({ b, mask }) => ({ b, mask })),
  };
}

/** The engine module (no memory inside: weights and biases are external read ports). */
export function renderLinearEngine(r: Resolved, p: LinearEngineParams): GeneratedFile[] {
  return [renderVerilog(r, path.join(here, "linearEngine.v.hbs"), `${p.module}.v`, `spike-driven linear engine '${p.tag}'`, linearEngineContext(p))];
}

// ---------------------------------------------------------------------------------------------
// Cycle model (exact when out_ready = 1 and a row is always offered while row_ready = 1)

/**
 * Fixed overhead of a layer in the cycle bound: 1 cycle from the start pulse to the first
 * collect cycle, 1 from the acceptance of the last beat to the done pulse.
 */
export const LINEAR_FIXED_OVERHEAD = 2;

/**
 * Exact cycles of one layer, counted from the clock edge that samples `start` to the edge
 * that samples `done` (so a start in cycle s and done in cycle s+n count n):
 *
 *   cycles = 2 + sum over groups g of [ n_g + tiles * (2 + n_g + K_g) ]
 *
 * n_g = rows of group g (G, or fewer for the layer's last group), K_g = input spikes of the
 * group's rows at channels < fanin (= spiking (row, channel) events, one per cycle per tile).
 * Per group: n_g collect cycles; per tile: 2 cycles of weight/bias read latency, K_g
 * accumulate cycles (no bubble between channels, zero columns cost nothing), n_g drain beats.
 * @param rowSpikes in-range spike count of every row of the layer, in arrival order
 */
export function linearCycles(rowSpikes: number[], tiles: number, group: number): number {
  if (rowSpikes.length === 0) throw new Error("linearCycles: a layer has at least one row");
  let cyc = LINEAR_FIXED_OVERHEAD;
  for (let i = 0; i < rowSpikes.length; i += group) {
    const g = rowSpikes.slice(i, i + group);
    const K = g.reduce((a, b) => a + b, 0);
    cyc += g.length + tiles * (2 + g.length + K);
  }
  return cyc;
}

/**
 * What the engine does in a cycle: the value of its `perf_class` output (one class per cycle,
 * so over a layer the classes add up to its cycles).
 *   idle    IDLE (also the cycle that samples start), or FINISH with the last beat being taken
 *   collect COLLECT, a row is accepted
 *   starve  COLLECT, no row offered (the input is not ready: a dependency or the feeder)
 *   work    ACC, one (row, channel) event accumulated into P lanes
 *   fill    ACC, the 2 cycles of bias/first-weight latency of a tile
 *   waitW   ACC, no event because a weight read was not granted in time (w_gnt = 0)
 *   drain   DRAIN, a beat is loaded
 *   stall   DRAIN or FINISH, the output is not taken (out_ready = 0)
 */
export const PERF_CLASSES = ["idle", "collect", "starve", "work", "fill", "waitW", "drain", "stall"] as const;
export type PerfClass = (typeof PERF_CLASSES)[number];

/**
 * Cycles of the classes that do not depend on stalls, for one layer (rows in arrival order):
 * collect = rows, work = tiles x input spikes, fill = 2 x tiles x groups, drain = tiles x rows,
 * idle = 2.  The rest (starve + waitW + stall) is exactly cycles - linearCycles().
 */
export function linearClassModel(rowSpikes: number[], tiles: number, group: number): { collect: number; work: number; fill: number; drain: number; idle: number } {
  const groups = Math.ceil(rowSpikes.length / group);
  const K = rowSpikes.reduce((a, b) => a + b, 0);
  return { collect: rowSpikes.length, work: tiles * K, fill: 2 * tiles * groups, drain: tiles * rowSpikes.length, idle: LINEAR_FIXED_OVERHEAD };
}

/**
 * The performance target: 1.25 x ceil(synops / P) + LINEAR_FIXED_OVERHEAD, synops =
 * input spikes x out.  linearCycles() is below it whenever every group carries enough
 * spikes to hide its per-group overhead: K_g >= 4 (n_g + 2) + 4 n_g / tiles (with out a
 * multiple of P), e.g. >= 48 spikes per 8-row group at 4 tiles (6 spikes per row).
 */
export function linearCycleBound(synops: number, lanes: number): number {
  return 1.25 * Math.ceil(synops / lanes) + LINEAR_FIXED_OVERHEAD;
}

// ---------------------------------------------------------------------------------------------
// Memory image of a layer

/**
 * Words of one layer in the engine's weight and bias memories, to be placed at cfg_wbase /
 * cfg_bbase: weight word j*fanin + c holds lanes l = weight[j*P + l][c], bias word j holds
 * lanes l = bias[j*P + l]; lanes past `out` are 0.
 */
export function layerMemoryImage(weight: number[][], bias: number[], lanes: number): { wWords: number[][]; bWords: number[][] } {
  const out = weight.length;
  if (out < 1 || bias.length !== out) throw new Error(`layerMemoryImage: ${out} weight rows and ${bias.length} biases`);
  const fanin = weight[0].length;
  if (fanin < 1 || weight.some((r) => r.length !== fanin)) throw new Error("layerMemoryImage: ragged or empty weight rows");
  const tiles = Math.ceil(out / lanes);
  const wWords: number[][] = [];
  const bWords: number[][] = [];
  for (let j = 0; j < tiles; j++) {
    const o = (l: number) => j * lanes + l;
    for (let c = 0; c < fanin; c++) wWords.push([...Array(lanes).keys()].map((l) => (o(l) < out ? weight[o(l)][c] : 0)));
    bWords.push([...Array(lanes).keys()].map((l) => (o(l) < out ? bias[o(l)] : 0)));
  }
  return { wWords, bWords };
}

/** Work of one layer for the cycle model: the in-range spike count of every row, and the output tiles. */
export interface LinearWork {
  rowSpikes: number[];
  tiles: number;
}

/**
 * The block (generator/blocks/block.ts).  No memory of its own: the weight and bias memories
 * (w_*, b_* read ports) belong to the block that instantiates the engine.
 */
export const linearEngineBlock: Block<LinearEngineParams, { tag: string } & LinearEngineOptions, LinearWork> = {
  name: "linearEngine",
  golden: "generator/blocks/linearEngine/golden.ts",
  testedBy: ["generator/blocks/linearEngine/linearEngine.test.ts"],
  params: (r, o) => linearEngineParams(r, o.tag, o),
  render: renderLinearEngine,
  memories: () => [],
  cycles: (p, w) => linearCycles(w.rowSpikes, w.tiles, p.group),
};
