/**
 * Testbench generation for linearEngine: renders a TB holding several engines (one per
 * shape) and writes, per stimulus seed, the ROM contents, layer list, spike-row stream and
 * the golden model's expected output beats.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderFile } from "../../render/render.ts";
import { maxS, minS } from "../../util/bits.ts";
import { Prng } from "../../util/prng.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { packLanes } from "../../util/lanes.ts";
import { linear } from "./golden.ts";
import { linearClassModel, linearCycles, linearEngineContext, renderLinearEngine, type LinearEngineParams } from "./linearEngine.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface LeTbInstance {
  p: LinearEngineParams;
  label: string;
  /** capacities of the TB's stimulus arrays */
  maxLayers: number;
  maxRows: number;
}

export interface LeLayer {
  fanin: number;
  out: number;
  wbase: number;
  bbase: number;
  /** spike rows, each inMax bits (bits at index >= fanin are noise the engine must ignore) */
  rows: number[][];
  tags: number[];
  /** idle cycles before the start pulse, 0..15 */
  idle: number;
  /** idle cycles before each row is offered, 0..15 */
  gaps: number[];
}

export interface LeRun {
  /** wDepth words of P weights */
  wmem: number[][];
  /** bDepth words of P biases */
  bmem: number[][];
  layers: LeLayer[];
  /** out_ready = 1 with probability readyProb / 256 (256: always) */
  readyProb: number;
  /** w_gnt = 1 with probability gntProb / 256 (default 256: every weight read granted at once) */
  gntProb?: number;
}

export interface LeLayerStats {
  rows: number;
  tiles: number;
  inputSpikes: number;
  synops: number;
  /** exact cycles by the documented model (valid when readyProb = 256 and no gaps) */
  modelCycles: number;
  /** groups of the layer (G rows, the last one shorter) */
  groups: number;
  /** cycles of the perf classes that do not depend on stalls: collect, work, fill, drain, idle */
  classModel: { collect: number; work: number; fill: number; drain: number; idle: number };
  /** outputs saturated high / low */
  satHi: number;
  satLo: number;
  outputs: number;
}

function layout(p: LinearEngineParams) {
  const N = p.inMax;
  const rowTagLo = N;
  const rowLastBit = N + p.tagBits;
  const rowGapLo = rowLastBit + 1;
  const layTilesLo = p.faninBits;
  const layWbaseLo = layTilesLo + p.tilesBits;
  const layBbaseLo = layWbaseLo + p.wAddrBits;
  const layIdleLo = layBbaseLo + p.bAddrBits;
  const dataBits = p.lanes * p.accBits;
  const expTagLo = dataBits;
  const expTileLo = expTagLo + p.tagBits;
  const expLastBit = expTileLo + p.tileIdxBits;
  const expMaskLo = expLastBit + 1;
  return {
    rowTagLo,
    rowTagHi: rowTagLo + p.tagBits - 1,
    rowLastBit,
    rowGapLo,
    rowGapHi: rowGapLo + 3,
    rowBits: rowGapLo + 4,
    layFaninLo: 0,
    layFaninHi: p.faninBits - 1,
    layTilesLo,
    layTilesHi: layTilesLo + p.tilesBits - 1,
    layWbaseLo,
    layWbaseHi: layWbaseLo + p.wAddrBits - 1,
    layBbaseLo,
    layBbaseHi: layBbaseLo + p.bAddrBits - 1,
    layIdleLo,
    layIdleHi: layIdleLo + 3,
    layBits: layIdleLo + 4,
    expTagLo,
    expTagHi: expTagLo + p.tagBits - 1,
    expTileLo,
    expTileHi: expTileLo + p.tileIdxBits - 1,
    expLastBit,
    expMaskLo,
    expBits: expMaskLo + p.lanes,
    beatBits: 1 + p.tileIdxBits + p.tagBits + dataBits,
  };
}

export function renderLeTb(r: Resolved, tbModule: string, insts: LeTbInstance[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  for (const i of insts) files.push(...renderLinearEngine(r, i.p));
  const ctx = {
    tbModule,
    insts: insts.map((inst, idx) => {
      const { rowBits, layBits, expBits, beatBits, ...l } = layout(inst.p);
      const e = linearEngineContext(inst.p);
      const p = inst.p;
      return {
        ...l,
        module: p.module,
        label: inst.label,
        px: `i${idx}_`,
        inMax: p.inMax,
        lanes: p.lanes,
        accBits: p.accBits,
        tagBits: p.tagBits,
        faninBits: p.faninBits,
        tilesBits: p.tilesBits,
        wAddrBits: p.wAddrBits,
        bAddrBits: p.bAddrBits,
        wWordBits: p.wWordBits,
        bWordBits: p.bWordBits,
        inMsb: e.inMsb,
        tagMsb: e.tagMsb,
        faninMsb: e.faninMsb,
        tilesMsb: e.tilesMsb,
        tileIdxMsb: e.tileIdxMsb,
        wAddrMsb: e.wAddrMsb,
        bAddrMsb: e.bAddrMsb,
        wWordMsb: e.wWordMsb,
        bWordMsb: e.bWordMsb,
        outBusMsb: e.outBusMsb,
        wDepthLast: p.wDepth - 1,
        bDepthLast: p.bDepth - 1,
        layMsb: layBits - 1,
        layLast: inst.maxLayers - 1,
        rowMsb: rowBits - 1,
        rowLast: inst.maxRows - 1,
        expMsb: expBits - 1,
        expLast: inst.maxRows * p.tilesMax - 1,
        beatMsb: beatBits - 1,
      };
    }),
  };
  files.push({ path: `${tbModule}.v`, kind: "tb", content: renderFile(path.join(here, "linearEngine_tb.v.hbs"), ctx) });
  return files;
}

const big = (v: number, width: number): bigint => {
  let b = BigInt(v);
  if (b < 0n) b += 1n << BigInt(width);
  if (b < 0n || b >= 1n << BigInt(width)) throw new Error(`value ${v} does not fit ${width} bits`);
  return b;
};
const bitsOf = (bits: number[]): bigint => bits.reduce((a, s, i) => a | (BigInt(s ? 1 : 0) << BigInt(i)), 0n);

/** The layer's weight[out][fanin] and bias[out] as the engine sees them in its memories. */
export function layerMatrices(p: LinearEngineParams, run: LeRun, L: LeLayer): { weight: number[][]; bias: number[] } {
  const weight: number[][] = [];
  const bias: number[] = [];
  for (let o = 0; o < L.out; o++) {
    const j = Math.floor(o / p.lanes);
    const ln = o % p.lanes;
    const row: number[] = [];
    for (let c = 0; c < L.fanin; c++) row.push(run.wmem[L.wbase + j * L.fanin + c][ln]);
    weight.push(row);
    bias.push(run.bmem[L.bbase + j][ln]);
  }
  return { weight, bias };
}

/** Check that a layer fits the instance (its memories and maxima). */
export function checkLayer(p: LinearEngineParams, L: LeLayer): void {
  const tiles = Math.ceil(L.out / p.lanes);
  const bad = (m: string) => {
    throw new Error(`linearEngine TB ${p.module}: ${m}`);
  };
  if (L.fanin < 1 || L.fanin > p.inMax) bad(`fanin ${L.fanin} outside 1..${p.inMax}`);
  if (tiles < 1 || tiles > p.tilesMax) bad(`out ${L.out} needs ${tiles} tiles, max ${p.tilesMax}`);
  if (L.wbase + tiles * L.fanin > p.wDepth) bad(`weights ${L.wbase}+${tiles}x${L.fanin} exceed wDepth ${p.wDepth}`);
  if (L.bbase + tiles > p.bDepth) bad(`biases ${L.bbase}+${tiles} exceed bDepth ${p.bDepth}`);
  if (L.rows.length < 1) bad("a layer has at least one row");
  if (L.idle < 0 || L.idle > 15 || L.gaps.some((g) => g < 0 || g > 15)) bad("idle/gap outside 0..15");
}

/**
 * Write the files of one stimulus set (one LeRun per instance) and return per-layer statistics.
 */
export function writeLeStimulus(dir: string, insts: LeTbInstance[], runs: LeRun[], seed: number): LeLayerStats[][] {
  fs.mkdirSync(dir, { recursive: true });
  const lfsrSeed = new Prng(seed);
  return insts.map((inst, idx) => {
    const { p } = inst;
    const run = runs[idx];
    const l = layout(p);
    const stats: LeLayerStats[] = [];
    const lay: string[] = [];
    const rows: string[] = [];
    const exp: string[] = [];
    const hi = maxS(p.accBits);
    const lo = minS(p.accBits);
    if (run.layers.length > inst.maxLayers) throw new Error(`${inst.label}: ${run.layers.length} layers > capacity ${inst.maxLayers}`);
    for (const L of run.layers) {
      checkLayer(p, L);
      const tiles = Math.ceil(L.out / p.lanes);
      const { weight, bias } = layerMatrices(p, run, L);
      lay.push(
        (
          (BigInt(L.idle) << BigInt(l.layIdleLo)) |
          (big(L.bbase, p.bAddrBits) << BigInt(l.layBbaseLo)) |
          (big(L.wbase, p.wAddrBits) << BigInt(l.layWbaseLo)) |
          (big(tiles, p.tilesBits) << BigInt(l.layTilesLo)) |
          big(L.fanin, p.faninBits)
        ).toString(16),
      );
      const ys = L.rows.map((s) => linear(s.slice(0, L.fanin), weight, bias, p.accBits));
      const rowSpikes = L.rows.map((s) => s.slice(0, L.fanin).reduce((a, b) => a + (b ? 1 : 0), 0));
      L.rows.forEach((s, k) => {
        if (s.length !== p.inMax) throw new Error(`${inst.label}: row of ${s.length} bits, expected ${p.inMax}`);
        const last = k === L.rows.length - 1 ? 1n : 0n;
        rows.push(((BigInt(L.gaps[k]) << BigInt(l.rowGapLo)) | (last << BigInt(l.rowLastBit)) | (big(L.tags[k], p.tagBits) << BigInt(l.rowTagLo)) | bitsOf(s)).toString(16));
      });
      let satHi = 0;
      let satLo = 0;
      for (let g0 = 0; g0 < L.rows.length; g0 += p.group) {
        const gRows = [...Array(Math.min(p.group, L.rows.length - g0)).keys()].map((k) => g0 + k);
        for (let j = 0; j < tiles; j++) {
          for (const k of gRows) {
            const lanes: number[] = [];
            const mask: number[] = [];
            for (let ln = 0; ln < p.lanes; ln++) {
              const o = j * p.lanes + ln;
              lanes.push(o < L.out ? ys[k][o] : 0);
              mask.push(o < L.out ? 1 : 0);
            }
            const last = g0 + p.group >= L.rows.length && j === tiles - 1 && k === L.rows.length - 1 ? 1n : 0n;
            exp.push(
              (
                (bitsOf(mask) << BigInt(l.expMaskLo)) |
                (last << BigInt(l.expLastBit)) |
                (big(j, p.tileIdxBits) << BigInt(l.expTileLo)) |
                (big(L.tags[k], p.tagBits) << BigInt(l.expTagLo)) |
                packLanes(lanes, p.accBits)
              ).toString(16),
            );
          }
        }
      }
      for (const y of ys)
        for (const v of y) {
          if (v === hi) satHi++;
          if (v === lo) satLo++;
        }
      const inputSpikes = rowSpikes.reduce((a, b) => a + b, 0);
      stats.push({
        rows: L.rows.length,
        tiles,
        inputSpikes,
        synops: inputSpikes * L.out,
        modelCycles: linearCycles(rowSpikes, tiles, p.group),
        groups: Math.ceil(L.rows.length / p.group),
        classModel: linearClassModel(rowSpikes, tiles, p.group),
        satHi,
        satLo,
        outputs: L.rows.length * L.out,
      });
    }
    if (rows.length > inst.maxRows) throw new Error(`${inst.label}: ${rows.length} rows > capacity ${inst.maxRows}`);
    const pad = (a: string[], n: number) => a.concat(Array(n - a.length).fill("0"));
    const px = path.join(dir, `le${idx}`);
    // cycle budget: the model's cycles slowed by the backpressure, plus every gap and idle
    // cycle, times 2 (only a hung or grossly slow engine reaches it)
    const idle = run.layers.reduce((a, L) => a + L.idle + 4 + L.gaps.reduce((x, y) => x + y, 0), 0);
    const busy = stats.reduce((a, st) => a + st.modelCycles, 0);
    const gnt = run.gntProb ?? 256;
    const timeout = 2 * (busy * Math.ceil(256 / Math.max(1, run.readyProb)) * Math.ceil(256 / Math.max(1, gnt)) + idle) + 200;
    writeHexFile(
      `${px}.meta.hex`,
      [run.layers.length, rows.length, exp.length, run.readyProb, lfsrSeed.int(1, 0x7fffffff), timeout, gnt, lfsrSeed.int(1, 0x7fffffff)].map((v) => v.toString(16)),
    );
    writeHexFile(`${px}.w.hex`, run.wmem.map((w) => packLanes(w, p.weightBits).toString(16)));
    writeHexFile(`${px}.b.hex`, run.bmem.map((b) => packLanes(b, p.biasBits).toString(16)));
    writeHexFile(`${px}.lay.hex`, pad(lay, inst.maxLayers));
    writeHexFile(`${px}.rows.hex`, pad(rows, inst.maxRows));
    writeHexFile(`${px}.exp.hex`, pad(exp, inst.maxRows * p.tilesMax));
    return stats;
  });
}

// ---------------------------------------------------------------------------------------------
// stimulus helpers

export type ValueStyle = "random" | "extreme";

/** Memories filled with random values; "extreme" draws only the range ends (forces saturation). */
export function randomMemories(rng: Prng, p: LinearEngineParams, style: ValueStyle): { wmem: number[][]; bmem: number[][] } {
  const v = (bits: number) => {
    const lo = minS(bits);
    const hi = maxS(bits);
    if (style === "extreme") return rng.pick([lo, hi, hi, lo, lo + 1, hi - 1, 0]);
    return rng.next() < 0.1 ? rng.pick([lo, hi]) : rng.int(lo, hi);
  };
  const word = (bits: number) => [...Array(p.lanes)].map(() => v(bits));
  return {
    wmem: [...Array(p.wDepth)].map(() => word(p.weightBits)),
    bmem: [...Array(p.bDepth)].map(() => word(p.biasBits)),
  };
}

/**
 * Memories at the range ends with a sign per (half of the memory, lane): lane l of a word in the
 * lower half of the memory is positive for even l, negative for odd l, and the other way round
 * in the upper half (same for biases).  A layer inside one half with dense rows then saturates
 * its outputs high on some lanes and low on others.
 */
export function signedMemories(rng: Prng, p: LinearEngineParams): { wmem: number[][]; bmem: number[][] } {
  const pos = (i: number, depth: number, l: number) => (l + (i >= Math.floor(depth / 2) ? 1 : 0)) % 2 === 0;
  const word = (i: number, depth: number, bits: number, jitter: number) =>
    [...Array(p.lanes)].map((_, l) => (pos(i, depth, l) ? maxS(bits) - rng.int(0, jitter) : minS(bits) + rng.int(0, jitter)));
  return {
    wmem: [...Array(p.wDepth)].map((_, i) => word(i, p.wDepth, p.weightBits, 2)),
    bmem: [...Array(p.bDepth)].map((_, i) => word(i, p.bDepth, p.biasBits, 5)),
  };
}

export type RowStyle = "mixed" | "bernoulli" | "zeros" | "ones";

/**
 * One spike row of inMax bits: every bit 1 with probability `density` ("bernoulli"), the same
 * with occasional all-zero / all-one rows ("mixed"), or all zeros / all ones.
 */
export function randomRow(rng: Prng, p: LinearEngineParams, density: number, style: RowStyle = "mixed"): number[] {
  if (style === "zeros") return Array(p.inMax).fill(0);
  if (style === "ones") return Array(p.inMax).fill(1);
  if (style === "bernoulli") return [...Array(p.inMax)].map(() => rng.bit(density));
  const u = rng.next();
  if (u < 0.08) return Array(p.inMax).fill(0);
  if (u < 0.16) return Array(p.inMax).fill(1);
  return [...Array(p.inMax)].map(() => rng.bit(density));
}

export interface LayerOpts {
  fanin: number;
  out: number;
  wbase: number;
  bbase: number;
  rows: number;
  density: number;
  rowStyle?: RowStyle;
  /** probability of a nonzero gap before a row / idle before start */
  gapProb: number;
}

export function makeLayer(rng: Prng, p: LinearEngineParams, o: LayerOpts): LeLayer {
  const gap = () => (rng.next() < o.gapProb ? rng.int(1, 5) : 0);
  return {
    fanin: o.fanin,
    out: o.out,
    wbase: o.wbase,
    bbase: o.bbase,
    rows: [...Array(o.rows)].map(() => randomRow(rng, p, o.density, o.rowStyle)),
    tags: [...Array(o.rows)].map(() => rng.int(0, 2 ** p.tagBits - 1)),
    idle: gap(),
    gaps: [...Array(o.rows)].map(gap),
  };
}

/** A random layer shape that fits the instance: fan-in, out, bases anywhere legal. */
export function randomLayerOpts(rng: Prng, p: LinearEngineParams, rows: number, gapProb: number): LayerOpts {
  const fanin = rng.int(1, p.inMax);
  const maxTiles = Math.min(p.tilesMax, Math.floor(p.wDepth / fanin), p.bDepth);
  const tiles = rng.int(1, maxTiles);
  const out = rng.int((tiles - 1) * p.lanes + 1, tiles * p.lanes);
  return {
    fanin,
    out,
    wbase: rng.int(0, p.wDepth - tiles * fanin),
    bbase: rng.int(0, p.bDepth - tiles),
    rows,
    density: rng.pick([0.05, 0.2, 0.5, 0.9]),
    gapProb,
  };
}
