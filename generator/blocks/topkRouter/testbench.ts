/**
 * Testbench generation for topkRouter: renders a TB holding several routers (one per
 * (E, k, ZW) variant) and writes, per seed, score vectors and the golden model's masks.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { pick, renderFile } from "../../render/render.ts";
import { maxS, minS } from "../../util/bits.ts";
import { Prng } from "../../util/prng.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { packLanes } from "../../util/lanes.ts";
import { selMask } from "./golden.ts";
import { renderTopkRouter, topkRouterContext, type TopkRouterParams } from "./topkRouter.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface TopkTbInstance {
  r: Resolved;
  p: TopkRouterParams;
  label: string;
  /**
   * "exhaustive": every score vector over the full ZW range ((2^ZW)^E vectors, shuffled per seed);
   * "random": `vectors` random vectors, with ties, extremes and all-equal vectors mixed in.
   */
  kind: "exhaustive" | "random";
  /** vectors per run for kind "random" */
  vectors?: number;
}

const GAP_BITS = 4;

/** Number of vectors an instance receives per run. */
export function vectorCount(i: TopkTbInstance): number {
  if (i.kind === "exhaustive") {
    const n = 2 ** (i.p.zBits * i.p.E);
    if (n > 1 << 16) throw new Error(`topkRouter TB: exhaustive ${i.label} would need ${n} vectors`);
    return n;
  }
  if (!i.vectors || i.vectors < 1) throw new Error(`topkRouter TB: random instance ${i.label} needs a vector count`);
  return i.vectors;
}

function layout(i: TopkTbInstance) {
  const scoresBits = i.p.E * i.p.zBits;
  const tagLo = scoresBits;
  const gapLsb = tagLo + i.p.tagBits;
  return { scoresBits, tagLo, tagHi: gapLsb - 1, gapLsb, stimBits: gapLsb + GAP_BITS, expBits: i.p.tagBits + i.p.E };
}

export function renderTopkTb(tbModule: string, insts: TopkTbInstance[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  for (const i of insts) files.push(...renderTopkRouter(i.r, i.p));
  const maxVec = Math.max(...insts.map(vectorCount));
  const ctx = {
    tbModule,
    // worst case: every vector preceded by the largest gap, 10 ns per cycle, plus margin
    timeoutNs: 10 * (maxVec * (2 ** GAP_BITS + 1) + 1000),
    insts: insts.map((i) => {
      const l = layout(i);
      return {
        ...pick(topkRouterContext(i.p), "module", "E", "k", "zBits", "eMsb", "scoresMsb", "tagMsb"),
        label: i.label,
        stimMsb: l.stimBits - 1,
        expMsb: l.expBits - 1,
        lastVec: vectorCount(i) - 1,
        vecCount: vectorCount(i),
        gapLsb: l.gapLsb,
        tagHi: l.tagHi,
        tagLo: l.tagLo,
      };
    }),
  };
  files.push({ path: `${tbModule}.v`, kind: "tb", content: renderFile(path.join(here, "topkRouter_tb.v.hbs"), ctx) });
  return files;
}

/** Decode vector number v of the exhaustive enumeration: digit e (base 2^ZW) is expert e's score. */
function exhaustiveVector(v: number, E: number, zBits: number): number[] {
  const base = 2 ** zBits;
  const lo = minS(zBits);
  const z: number[] = [];
  for (let e = 0; e < E; e++) {
    z.push((v % base) + lo);
    v = Math.floor(v / base);
  }
  return z;
}

export type ScoreStyle = "uniform" | "tiny" | "extreme" | "allEqual" | "twoLevel";

/** One random score vector of a given style (ties are common in every style but "uniform"). */
export function randomScores(rng: Prng, E: number, zBits: number, style: ScoreStyle): number[] {
  const lo = minS(zBits);
  const hi = maxS(zBits);
  const clamp = (x: number) => Math.max(lo, Math.min(hi, x));
  switch (style) {
    case "uniform":
      return Array.from({ length: E }, () => rng.int(lo, hi));
    case "tiny": {
      // values from a window of 2..4 consecutive scores somewhere in the range
      const w = rng.int(2, 4);
      const c = rng.pick([0, -1, lo, hi - w + 1, rng.int(lo, hi - w + 1)]);
      return Array.from({ length: E }, () => clamp(c + rng.int(0, w - 1)));
    }
    case "extreme": {
      const pool = [...new Set([lo, lo + 1, -1, 0, 1, hi - 1, hi].map(clamp))];
      return Array.from({ length: E }, () => rng.pick(pool));
    }
    case "allEqual": {
      const v = rng.pick([lo, hi, 0, -1, rng.int(lo, hi)]);
      return new Array<number>(E).fill(clamp(v));
    }
    case "twoLevel": {
      const a = rng.int(lo, hi);
      const b = rng.int(lo, hi);
      return Array.from({ length: E }, () => (rng.bit(0.5) ? a : b));
    }
  }
}

const STYLE_MIX: [ScoreStyle, number][] = [
  ["uniform", 0.3],
  ["tiny", 0.35],
  ["extreme", 0.15],
  ["allEqual", 0.08],
  ["twoLevel", 0.12],
];

function pickStyle(rng: Prng): ScoreStyle {
  let u = rng.next();
  for (const [s, w] of STYLE_MIX) {
    if (u < w) return s;
    u -= w;
  }
  return "uniform";
}

export interface TopkStimStats {
  /** vectors per instance */
  vectors: number[];
  /** vectors with at least one tie between two experts, per instance */
  withTies: number[];
  /** vectors whose selection is decided by the tie rule (a tie across the k-th boundary), per instance */
  tieDecided: number[];
}

/**
 * Write stimulus and expected files for one seed.  Every vector has a random tag and is
 * preceded by a random idle gap (mostly 0, so most vectors are back to back).
 */
export function writeTopkStimulus(dir: string, insts: TopkTbInstance[], seed: number): TopkStimStats {
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Prng(seed);
  const stats: TopkStimStats = { vectors: [], withTies: [], tieDecided: [] };
  insts.forEach((inst, idx) => {
    const { p } = inst;
    const l = layout(inst);
    const n = vectorCount(inst);
    const order = inst.kind === "exhaustive" ? rng.shuffle([...Array(n).keys()]) : [];
    const stim: string[] = [];
    const exp: string[] = [];
    let withTies = 0;
    let tieDecided = 0;
    for (let v = 0; v < n; v++) {
      const z = inst.kind === "exhaustive" ? exhaustiveVector(order[v], p.E, p.zBits) : randomScores(rng, p.E, p.zBits, pickStyle(rng));
      const mask = selMask(z, p.k);
      if (new Set(z).size < z.length) withTies++;
      // the k-th boundary is tie-decided when a selected and an unselected expert have equal scores
      if (z.some((a, i) => mask[i] && z.some((b, j) => !mask[j] && a === b))) tieDecided++;
      const tag = rng.int(0, 2 ** p.tagBits - 1);
      const gap = rng.next() < 0.75 ? 0 : rng.int(1, 3);
      const word = (BigInt(gap) << BigInt(l.gapLsb)) | (BigInt(tag) << BigInt(l.tagLo)) | packLanes(z, p.zBits);
      stim.push(word.toString(16));
      const sel = mask.reduce((a, s, i) => a | (BigInt(s) << BigInt(i)), 0n);
      exp.push(((BigInt(tag) << BigInt(p.E)) | sel).toString(16));
    }
    writeHexFile(path.join(dir, `tk${idx}.stim.hex`), stim);
    writeHexFile(path.join(dir, `tk${idx}.exp.hex`), exp);
    stats.vectors.push(n);
    stats.withTies.push(withTies);
    stats.tieDecided.push(tieDecided);
  });
  return stats;
}
