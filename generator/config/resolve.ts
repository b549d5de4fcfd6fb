/**
 * Resolved configuration: the user config with every default applied plus every
 * design-wide derived value, computed here in TypeScript: the model's shapes and widths,
 * the clamped hardware parameters and the row/tile geometry every block shares (`geo`).
 * A block derives its own widths from these in its params; templates never compute.
 * resolve() does not check anything: parseConfig (./load.ts, rules in ./validate.ts) has
 * already refused every config that cannot be generated.
 */
import crypto from "node:crypto";
import { ST3D_VERSION } from "../core/paths.ts";
import { parseConfig } from "./load.ts";
import type { LifUserConfig, UserConfig, UserConfigInput } from "./schema.ts";
import { idxBits, maxS, minS, signedBitsFor } from "../util/bits.ts";

export type LifFamily = "shortcut" | "qkv" | "attn" | "hidden";
export const LIF_FAMILIES: LifFamily[] = ["shortcut", "qkv", "attn", "hidden"];

export interface ResolvedLif extends LifUserConfig {
  family: LifFamily;
  /** signed width of the input X this family receives */
  xBits: number;
}

/**
 * The row and tile geometry of the accelerator (docs/ARCHITECTURE.md "Conventions"), named
 * once here and used by every block and the top.  Activations are rows, one per (t, n); a
 * row's address is the concatenation {t, n}, so row buffers are T << nBits deep.
 */
export interface Geometry {
  /** P: lanes of the synaptic pool, of the LIF arrays and of a umem word (hw.poolLanes) */
  lanes: number;
  /** G: rows of a token group of the linear engines (hw.tokenGroup) */
  group: number;
  /** width of the t field of a {t, n} row tag: idxBits(T) */
  tBits: number;
  /** width of the n field of a row address: idxBits(N) */
  nBits: number;
  /** rows of every row buffer: T << nBits (rows with n >= N are never used) */
  rows: number;
  /** address width of a row buffer: idxBits(rows) = tAddrBits + nBits */
  rowAddrBits: number;
  /** width of the t field of a row address: tBits, or 0 when T = 1 (the address is then just n) */
  tAddrBits: number;
  /** width of a {t, n} row tag that keeps a t field even when T = 1: tBits + nBits (= rowAddrBits unless T = 1) */
  tnBits: number;
  /** ceil(D / P): words of P lanes per D-wide row (umem, mmem, LIF_a, LIF_m; output tiles of q, k, v, o, fc2) */
  tilesD: number;
  /** ceil(F / P): output tiles of fc1 */
  tilesF: number;
  /** words of the residual-stream memory umem: rows * tilesD (word row * tilesD + j) */
  umemDepth: number;
  /** width of a umem word: P lanes of residBits */
  umemWidth: number;
}

export interface Resolved {
  user: UserConfig;
  name: string;
  version: string;
  /** sha256 (first 16 hex digits) of the canonical JSON of the defaulted user config */
  hash: string;
  T: number;
  N: number;
  D: number;
  H: number;
  d: number;
  L: number;
  E: number;
  k: number;
  F: number;
  /** tokens x timesteps, the rows of every activation matrix */
  TN: number;
  attention: "ssa" | "sdsa";
  routing: "per-step" | "per-token";
  weightBits: number;
  biasBits: number;
  accBits: number;
  residBits: number;
  attnShift: number;
  lif: Record<LifFamily, ResolvedLif>;
  /** exact width of a linear layer's internal sum for fan-in `fanIn` (bias + fanIn weights) */
  linearSumBits: (fanIn: number) => number;
  /** width of a per-token router score sum over T timesteps (exact, not saturated) */
  routerSumBits: number;
  hw: {
    /** the lane budget (hardware.synapticLanes) */
    synapticLanes: number;
    /** P: lanes of the synaptic pool (laneSplit) */
    poolLanes: number;
    /** lanes of the router engine (laneSplit) */
    routerLanes: number;
    tokenGroup: number;
    lifLanes: number;
    attnCores: number;
    macroMinBits: number;
    /** clock target of synthesis and timing (undefined: the cell library's default) */
    clockMHz: number | undefined;
    /** where the pool's weights live and, when streamed, the buffer and the off-chip beat (weightStreamConfig) */
    weights: WeightStreamConfig;
  };
  integration: UserConfig["integration"];
  geo: Geometry;
}

export { ST3D_VERSION };

/** The pool's weights: on chip (banks wp<b>) or streamed from off-chip (docs/ARCHITECTURE.md "weightStream"). */
export interface WeightStreamConfig {
  /** hardware.weightsOnChip (default true) */
  onChip: boolean;
  /** bits of a pool word: P lanes x weightBits */
  wordBits: number;
  /** the largest pool layer (every layer of the stream must fit one half): its name and words */
  largestLayer: { name: "q/k/v/o" | "fc1" | "fc2"; words: number };
  /** one layer's working set double-buffered: 2 x largestLayer.words x wordBits */
  workingSetBits: number;
  /** hardware.weightBuffer, or workingSetBits when not given */
  bufferBits: number;
  /** words of each half: floor(bufferBits / (2 x wordBits)) */
  halfDepth: number;
  /** W: hardware.offchipBeatBits or the default (defaultBeatBits) */
  beatBits: number;
  /** K = ceil(wordBits / W) */
  beatsPerWord: number;
  /** words of every pool layer of every block (the off-chip image: imageWords x beatsPerWord beats) */
  imageWords: number;
  /** zero padding of the off-chip image: K x W / wordBits - 1 (bytes read = weight bytes x (1 + overhead)) */
  overhead: number;
}

/** Off-chip address space of the weight image (the wm_araddr width, docs/HOST.md "Off-chip weight port"). */
export const OFFCHIP_ADDR_BITS = 32;

/** Beat widths an off-chip weight port may have, widest first. */
export const OFFCHIP_BEATS = [512, 256, 128, 64, 32] as const;
/** Largest padding overhead the default beat width accepts. */
export const OFFCHIP_MAX_OVERHEAD = 0.05;

/** Padding overhead of wordBits-bit words in W-bit beats: ceil(wordBits / W) x W / wordBits - 1. */
export const beatOverhead = (wordBits: number, W: number) => (Math.ceil(wordBits / W) * W) / wordBits - 1;

/** The default beat: the widest of OFFCHIP_BEATS with overhead <= 5 %, else the one with the least (the wider on a tie). */
export function defaultBeatBits(wordBits: number): number {
  const ok = OFFCHIP_BEATS.find((W) => beatOverhead(wordBits, W) <= OFFCHIP_MAX_OVERHEAD + 1e-12);
  if (ok !== undefined) return ok;
  let best: number = OFFCHIP_BEATS[0];
  for (const W of OFFCHIP_BEATS) if (beatOverhead(wordBits, W) < beatOverhead(wordBits, best) - 1e-12) best = W;
  return best;
}

/** The largest pool layer: q/k/v/o have tilesD x D words, fc1 tilesF x D, fc2 tilesD x F (the first on a tie). */
export function largestPoolLayer(D: number, F: number, lanes: number): { name: "q/k/v/o" | "fc1" | "fc2"; words: number } {
  const tilesD = Math.ceil(D / lanes);
  const tilesF = Math.ceil(F / lanes);
  const cands = [
    { name: "q/k/v/o" as const, words: tilesD * D },
    { name: "fc1" as const, words: tilesF * D },
    { name: "fc2" as const, words: tilesD * F },
  ];
  return cands.reduce((a, b) => (b.words > a.words ? b : a));
}

export function weightStreamConfigOf(hw: UserConfig["hardware"], m: UserConfig["model"], lanes: number): WeightStreamConfig {
  const wordBits = lanes * m.weightBits;
  const largestLayer = largestPoolLayer(m.dim, m.expertHidden, lanes);
  const workingSetBits = 2 * largestLayer.words * wordBits;
  const bufferBits = hw.weightBuffer ?? workingSetBits;
  const beatBits = hw.offchipBeatBits ?? defaultBeatBits(wordBits);
  const tilesD = Math.ceil(m.dim / lanes);
  const tilesF = Math.ceil(m.expertHidden / lanes);
  return {
    onChip: hw.weightsOnChip ?? true,
    wordBits,
    largestLayer,
    workingSetBits,
    bufferBits,
    halfDepth: Math.floor(bufferBits / (2 * wordBits)),
    beatBits,
    beatsPerWord: Math.ceil(wordBits / beatBits),
    imageWords: m.blocks * (4 * tilesD * m.dim + m.experts * (tilesF * m.dim + tilesD * m.expertHidden)),
    overhead: beatOverhead(wordBits, beatBits),
  };
}

/** Canonical JSON: keys sorted, so the hash does not depend on key order in the file. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/** The default of hardware.attnCores: one core per head. */
export const defaultAttnCores = (heads: number) => heads;

/**
 * The lane budget split (docs/ARCHITECTURE.md, "Lane budget"):
 *  - the router engine gets one lane per expert score, R = min(E, floor(budget / 2)) (with
 *    R < E the E scores of a row take ceil(E / R) tiles);
 *  - the synaptic pool gets the rest, at most max(D, F) (a wider pool would only idle), and is
 *    then trimmed to the fewest lanes that keep the same number of output tiles for width D
 *    and for width F: a lane that shortens no layer is not built.  E.g. D = F = 384 with the
 *    default budget 84: R = 4, 80 lanes would take ceil(384/80) = 5 tiles, and so do 77, so
 *    P = 77 (81 lanes in all); a budget of 68 gives P = 64 (6 tiles).
 */
export function laneSplit(budget: number, D: number, F: number, E: number): { pool: number; router: number } {
  const router = Math.max(1, Math.min(E, Math.floor(budget / 2)));
  const pmax = Math.max(1, Math.min(budget - router, Math.max(D, F)));
  const tD = Math.ceil(D / pmax);
  const tF = Math.ceil(F / pmax);
  let pool = pmax;
  while (pool > 1 && Math.ceil(D / (pool - 1)) === tD && Math.ceil(F / (pool - 1)) === tF) pool--;
  return { pool, router };
}

/** The row and tile geometry of a config (see Geometry). */
export function geometry(m: { timesteps: number; tokens: number; dim: number; expertHidden: number; residBits: number }, lanes: number, group: number): Geometry {
  const tBits = idxBits(m.timesteps);
  const nBits = idxBits(m.tokens);
  const rows = m.timesteps * 2 ** nBits;
  const rowAddrBits = idxBits(rows);
  const tilesD = Math.ceil(m.dim / lanes);
  return {
    lanes,
    group,
    tBits,
    nBits,
    rows,
    rowAddrBits,
    tAddrBits: rowAddrBits - nBits,
    tnBits: tBits + nBits,
    tilesD,
    tilesF: Math.ceil(m.expertHidden / lanes),
    umemDepth: rows * tilesD,
    umemWidth: lanes * m.residBits,
  };
}

export function resolve(user: UserConfig): Resolved {
  const m = user.model;
  const attnCores = user.hardware.attnCores ?? defaultAttnCores(m.heads);
  const TN = m.timesteps * m.tokens;

  const xBitsOf: Record<LifFamily, number> = { shortcut: m.residBits, qkv: m.accBits, attn: m.accBits, hidden: m.accBits };
  const lif = Object.fromEntries(LIF_FAMILIES.map((f) => [f, { ...m.lif[f], family: f, xBits: xBitsOf[f] }])) as Record<LifFamily, ResolvedLif>;

  // more lanes than a layer can use, or a token group larger than T*N, would only idle
  // hardware: split and clamp (documented in the config reference) rather than refuse, so a
  // config that leaves hardware at its defaults works for every model shape.
  const lanes = laneSplit(user.hardware.synapticLanes, m.dim, m.expertHidden, m.experts);
  const group = Math.min(user.hardware.tokenGroup, TN);
  const linearSumBits = (fanIn: number) =>
    signedBitsFor(minS(m.biasBits) + fanIn * minS(m.weightBits), maxS(m.biasBits) + fanIn * maxS(m.weightBits));

  return {
    user,
    name: user.name,
    version: ST3D_VERSION,
    hash: crypto.createHash("sha256").update(canonicalJson(user)).digest("hex").slice(0, 16),
    T: m.timesteps,
    N: m.tokens,
    D: m.dim,
    H: m.heads,
    d: m.dim / m.heads,
    L: m.blocks,
    E: m.experts,
    k: m.topK,
    F: m.expertHidden,
    TN,
    attention: m.attention,
    routing: m.routing,
    weightBits: m.weightBits,
    biasBits: m.biasBits,
    accBits: m.accBits,
    residBits: m.residBits,
    attnShift: m.attnShift,
    lif,
    linearSumBits,
    routerSumBits: signedBitsFor(m.timesteps * minS(m.accBits), m.timesteps * maxS(m.accBits)),
    hw: {
      synapticLanes: user.hardware.synapticLanes,
      poolLanes: lanes.pool,
      routerLanes: lanes.router,
      tokenGroup: group,
      lifLanes: user.hardware.lifLanes,
      attnCores,
      macroMinBits: user.hardware.macroMinBits,
      clockMHz: user.hardware.clockMHz,
      weights: weightStreamConfigOf(user.hardware, m, lanes.pool),
    },
    integration: user.integration,
    geo: geometry(m, lanes.pool, group),
  };
}

/** Convenience for tests: validate + resolve a partial config object. */
export function resolveInput(input: UserConfigInput, source = "(inline)"): Resolved {
  return resolve(parseConfig(input, source));
}


/**
 * The hardware of a config, resolved: the config with `integration.mode` = 2d (resolved again,
 * so its hash is that of the 2d config).  The integration mode does not change the RTL blocks,
 * so every mode of one hardware has the same hardware resolution: `st3d report` builds all its
 * views from it and `st3d sweep` never runs two points of one hardware at once (they share the
 * cached run and synthesis).
 */
export function hardwareResolved(r: Resolved): Resolved {
  if (r.integration.mode === "2d") return r;
  return resolve({ ...r.user, integration: { ...r.user.integration, mode: "2d" } });
}
