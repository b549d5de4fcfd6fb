/**
 * Model tensors on disk (SPEC.md §3): one .npy per tensor, PyTorch state_dict names,
 * row-major weight[out][in].  Loading checks existence, integer dtype, shape and that
 * every value fits its declared signed width; every problem is a TensorError naming the
 * tensor, the file and what is wrong.
 *
 * Also: writing a model folder, and a deterministic random model + input generator.
 */
import fs from "node:fs";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import type { LifParams } from "../blocks/lifArray/golden.ts";
import { lifStep } from "../blocks/lifArray/golden.ts";
import { maxS, minS, sat } from "../util/bits.ts";
import { NpyError, readNpy, serializeNpy, type NpyWriteDtype } from "../util/npy.ts";
import type { BlockWeights, LinearWeights, Model } from "./golden.ts";

export class TensorError extends Error {
  constructor(
    /** tensor name, e.g. blocks.0.q.weight (or "input" for U0) */
    readonly tensor: string,
    readonly file: string,
    readonly problem: string,
    message = `${tensor}: ${problem} (file ${file})`,
  ) {
    super(message);
    this.name = "TensorError";
  }
}

export interface TensorSpec {
  name: string;
  shape: number[];
  /** signed bit width every value must fit */
  bits: number;
  /** which config field `bits` comes from, for messages */
  bitsField: "weightBits" | "biasBits" | "residBits";
}

/** Every tensor a model folder must hold for this config, in a fixed order. */
export function modelTensorSpecs(r: Resolved): TensorSpec[] {
  const { D, E, F } = r;
  const specs: TensorSpec[] = [];
  const lin = (name: string, out: number, inp: number) => {
    specs.push({ name: `${name}.weight`, shape: [out, inp], bits: r.weightBits, bitsField: "weightBits" });
    specs.push({ name: `${name}.bias`, shape: [out], bits: r.biasBits, bitsField: "biasBits" });
  };
  for (let b = 0; b < r.L; b++) {
    for (const p of ["q", "k", "v", "o"]) lin(`blocks.${b}.${p}`, D, D);
    lin(`blocks.${b}.router`, E, D);
    for (let e = 0; e < E; e++) {
      lin(`blocks.${b}.experts.${e}.fc1`, F, D);
      lin(`blocks.${b}.experts.${e}.fc2`, D, F);
    }
  }
  return specs;
}

const shapeStr = (s: number[]) => `[${s.join(",")}]`;

function indexOf(flat: number, shape: number[]): string {
  const idx: number[] = new Array(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return `[${idx.join(",")}]`;
}

/** Read one tensor file and check dtype, shape and range; returns the flat row-major data. */
export function loadTensorFile(file: string, spec: TensorSpec): number[] {
  if (!fs.existsSync(file)) throw new TensorError(spec.name, file, `missing file: expected ${spec.name}.npy with shape ${shapeStr(spec.shape)}`);
  let arr;
  try {
    arr = readNpy(file);
  } catch (e) {
    if (e instanceof NpyError) throw new TensorError(spec.name, file, e.problem);
    throw e;
  }
  if (!/^[<>|=]?[iu]\d+$/.test(arr.dtype))
    throw new TensorError(spec.name, file, `dtype ${arr.dtype} is not an integer dtype (use int8/int16/int32/...)`);
  if (arr.shape.length !== spec.shape.length || arr.shape.some((s, i) => s !== spec.shape[i]))
    throw new TensorError(spec.name, file, `shape ${shapeStr(arr.shape)}, expected ${shapeStr(spec.shape)}`);
  const lo = minS(spec.bits);
  const hi = maxS(spec.bits);
  const data = arr.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo || v > hi)
      throw new TensorError(
        spec.name,
        file,
        `value ${v} at index ${indexOf(i, arr.shape)} does not fit ${spec.bitsField}=${spec.bits} (range ${lo}..${hi})`,
      );
  }
  return data;
}

function rows(flat: number[], nRows: number, nCols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nRows; i++) out.push(flat.slice(i * nCols, (i + 1) * nCols));
  return out;
}

const TENSOR_FILE = /^blocks\.(\d+)\.(.*)\.npy$/;

/**
 * Load a model folder for config r. Every tensor of modelTensorSpecs(r) must exist, be an
 * integer dtype, have the exact shape and fit weightBits / biasBits (signed).
 * A `blocks.*.npy` file that the config does not use (a block >= L, an expert >= E, an
 * unknown layer) is also an error: it nearly always means the folder belongs to another config.
 */
export function loadModelDir(r: Resolved, dir: string): Model {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new TensorError("(model)", dir, "weights folder does not exist or is not a directory");
  const specs = modelTensorSpecs(r);
  const known = new Set(specs.map((s) => `${s.name}.npy`));
  const expected = `expected names blocks.{0..${r.L - 1}}.{q,k,v,o,router}.{weight,bias}, blocks.{b}.experts.{0..${r.E - 1}}.{fc1,fc2}.{weight,bias}; docs/MODEL.md`;
  const unexpected = fs
    .readdirSync(dir)
    .sort()
    .filter((f) => TENSOR_FILE.test(f) && !known.has(f));
  if (unexpected.length === 1)
    throw new TensorError(unexpected[0].replace(/\.npy$/, ""), path.join(dir, unexpected[0]), `unexpected tensor: the config has blocks=${r.L}, experts=${r.E} (${expected})`);
  if (unexpected.length > 1)
    throw new TensorError(
      unexpected.map((f) => f.replace(/\.npy$/, "")).join(", "),
      dir,
      "unexpected tensors",
      `${unexpected.length} unexpected tensors in ${dir}: ${unexpected.map((f) => f.replace(/\.npy$/, "")).join(", ")} — the config has blocks=${r.L}, experts=${r.E} (${expected}); is this the weights folder of another config?`,
    );
  const missing = specs.filter((s) => !fs.existsSync(path.join(dir, `${s.name}.npy`)));
  if (missing.length > 1)
    throw new TensorError(
      missing.map((m) => m.name).join(", "),
      dir,
      "missing files",
      `${missing.length} of ${specs.length} tensors missing in ${dir}: ${missing.map((m) => `${m.name}.npy ${shapeStr(m.shape)}`).join(", ")} (${expected})`,
    );
  const got = new Map<string, number[]>();
  for (const s of specs) got.set(s.name, loadTensorFile(path.join(dir, `${s.name}.npy`), s));
  const lin = (name: string, out: number, inp: number): LinearWeights => ({
    weight: rows(got.get(`${name}.weight`)!, out, inp),
    bias: got.get(`${name}.bias`)!.slice(),
  });
  const blocks: BlockWeights[] = [];
  for (let b = 0; b < r.L; b++) {
    const p = `blocks.${b}`;
    blocks.push({
      q: lin(`${p}.q`, r.D, r.D),
      k: lin(`${p}.k`, r.D, r.D),
      v: lin(`${p}.v`, r.D, r.D),
      o: lin(`${p}.o`, r.D, r.D),
      router: lin(`${p}.router`, r.E, r.D),
      experts: Array.from({ length: r.E }, (_, e) => ({
        fc1: lin(`${p}.experts.${e}.fc1`, r.F, r.D),
        fc2: lin(`${p}.experts.${e}.fc2`, r.D, r.F),
      })),
    });
  }
  return { blocks };
}

/**
 * Load the input U0, shape [T, N, D], any integer dtype.  Every value must fit residBits
 * (signed): U0 is the first value of the residual stream U, which the hardware holds in
 * residBits-wide buffers, so a value outside that range cannot be represented — it is
 * refused rather than silently saturated.
 */
export function loadInput(r: Resolved, file: string): number[][][] {
  const spec: TensorSpec = { name: "input", shape: [r.T, r.N, r.D], bits: r.residBits, bitsField: "residBits" };
  const flat = loadTensorFile(file, spec);
  const out: number[][][] = [];
  for (let t = 0; t < r.T; t++) out.push(rows(flat.slice(t * r.N * r.D, (t + 1) * r.N * r.D), r.N, r.D));
  return out;
}

/** Smallest standard signed little-endian dtype that holds `bits`-bit signed values. */
export function dtypeForBits(bits: number): NpyWriteDtype {
  return bits <= 8 ? "|i1" : bits <= 16 ? "<i2" : bits <= 32 ? "<i4" : "<i8";
}

/**
 * Every tensor of the model as `<prefix><name>.npy` bytes (weights in the smallest dtype for
 * weightBits, biases for biasBits), checked against the config's shapes and widths.
 */
export function modelFiles(r: Resolved, model: Model, prefix = ""): { path: string; kind: string; content: Buffer }[] {
  const out: { path: string; kind: string; content: Buffer }[] = [];
  const where = prefix || "(model)";
  const put = (name: string, shape: number[], data: number[], bits: number) => {
    const lo = minS(bits);
    const hi = maxS(bits);
    for (let i = 0; i < data.length; i++)
      if (!Number.isInteger(data[i]) || data[i] < lo || data[i] > hi)
        throw new TensorError(name, `${prefix}${name}.npy`, `value ${data[i]} at index ${indexOf(i, shape)} does not fit ${bits} bits (range ${lo}..${hi})`);
    out.push({ path: `${prefix}${name}.npy`, kind: "tensor", content: serializeNpy(shape, data, dtypeForBits(bits), name) });
  };
  const lin = (name: string, lw: LinearWeights, o: number, inp: number) => {
    if (lw.weight.length !== o || lw.weight.some((row) => row.length !== inp) || lw.bias.length !== o)
      throw new TensorError(name, where, `shape mismatch: expected weight [${o},${inp}] and bias [${o}]`);
    put(`${name}.weight`, [o, inp], lw.weight.flat(), r.weightBits);
    put(`${name}.bias`, [o], lw.bias, r.biasBits);
  };
  if (model.blocks.length !== r.L) throw new TensorError("(model)", where, `model has ${model.blocks.length} blocks, config says ${r.L}`);
  model.blocks.forEach((bw, b) => {
    const p = `blocks.${b}`;
    lin(`${p}.q`, bw.q, r.D, r.D);
    lin(`${p}.k`, bw.k, r.D, r.D);
    lin(`${p}.v`, bw.v, r.D, r.D);
    lin(`${p}.o`, bw.o, r.D, r.D);
    lin(`${p}.router`, bw.router, r.E, r.D);
    if (bw.experts.length !== r.E) throw new TensorError(`${p}.experts`, where, `${bw.experts.length} experts, config says ${r.E}`);
    bw.experts.forEach((ew, e) => {
      lin(`${p}.experts.${e}.fc1`, ew.fc1, r.F, r.D);
      lin(`${p}.experts.${e}.fc2`, ew.fc2, r.D, r.F);
    });
  });
  return out;
}

/** U0 ([T][N][D]) as .npy bytes in the smallest dtype holding residBits. */
export function inputNpy(r: Resolved, U0: number[][][]): Buffer {
  return serializeNpy([r.T, r.N, r.D], U0.flat(2), dtypeForBits(r.residBits), "input");
}

/** Write every tensor of the model as <dir>/<name>.npy (a plain write, for tests and scripts; `st3d random-model` writes atomically). */
export function writeModelDir(r: Resolved, model: Model, dir: string): void {
  const files = modelFiles(r, model);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.content);
}

/** Write U0 ([T][N][D]) as .npy in the smallest dtype holding residBits. */
export function writeInput(r: Resolved, U0: number[][][], file: string): void {
  fs.writeFileSync(file, inputNpy(r, U0));
}

// ---------------------------------------------------------------------------------------
// Deterministic random models

/** mulberry32: small, fast, deterministic 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer uniform in [lo, hi]. */
function randInt(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** Standard normal samples, deterministic (Box-Muller on mulberry32). */
function normals(seed: number, n: number): number[] {
  const rnd = mulberry32(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = 1 - rnd();
    const v = rnd();
    const m = Math.sqrt(-2 * Math.log(u));
    out.push(m * Math.cos(2 * Math.PI * v), m * Math.sin(2 * Math.PI * v));
  }
  return out.slice(0, n);
}

/**
 * The mean input mu at which a LIF with the config's parameters spikes in about `density`
 * of its (neuron, timestep) slots, when its input is X[t] = mu + sigmaNeuron*g + sigmaStep*g_t
 * (g fixed per neuron, g_t fresh each timestep, both standard normal).  Simulated on a fixed
 * set of 512 neurons over T timesteps; bisection on the integer mu (the spike fraction is
 * monotone in mu).
 */
const calibrated = new Map<string, number>();
export function calibrateMean(p: LifParams, T: number, sigmaNeuron: number, sigmaStep: number, density: number): number {
  const key = JSON.stringify([p.threshold, p.tauShift, p.decayInput, p.fire, p.reset, p.stateBits, T, sigmaNeuron, sigmaStep, density]);
  const hit = calibrated.get(key);
  if (hit !== undefined) return hit;
  const M = 512;
  const g = normals(0x5eed, M * (T + 1));
  const dens = (mu: number) => {
    let s = 0;
    for (let i = 0; i < M; i++) {
      const base = mu + sigmaNeuron * g[i * (T + 1)];
      let W = 0;
      for (let t = 0; t < T; t++) {
        const r = lifStep(W, Math.round(base + sigmaStep * g[i * (T + 1) + 1 + t]), p);
        W = r.W;
        s += r.S;
      }
    }
    return s / (M * T);
  };
  const span = Math.ceil(4 * (sigmaNeuron + sigmaStep)) + 1;
  let lo = minS(p.stateBits) - span;
  let hi = maxS(p.stateBits) + span;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dens(mid) < density) lo = mid;
    else hi = mid;
  }
  calibrated.set(key, hi);
  return hi;
}

/** Half-width w of integer weights uniform in [-w, w] such that a sum over `active` of them has std ~ sigma. */
function weightRange(sigma: number, active: number, weightBits: number): number {
  // var of one weight = w(w+1)/3; want active * w(w+1)/3 = sigma^2
  const target = (3 * sigma * sigma) / Math.max(active, 1);
  const w = Math.max(1, Math.round((-1 + Math.sqrt(1 + 4 * target)) / 2));
  return Math.min(w, maxS(weightBits));
}

/**
 * A random model plus input U0 for config r, deterministic in `seed` (mulberry32), with
 * spike densities steered towards `density` (fraction of 1s in the LIF outputs).
 *
 * How density is steered: every LIF's input is (roughly) a random variable with a chosen
 * standard deviation sigma; its mean is set by `calibrateMean`, which simulates the LIF with
 * the config's own parameters (threshold, leak, reset, fire) over T timesteps so that the
 * expected spike fraction is `density`.
 *   - U0: per (n, c) a level around that mean (sigma = threshold of lif.shortcut) plus a
 *     small per-timestep jitter; S0 then has about `density`.
 *   - q, k, v, fc1: weights uniform in [-w, w] with w chosen so that the sum over the
 *     expected `density * fanIn` active inputs has std ~ the LIF's threshold; the bias is the
 *     calibrated mean (plus a small per-channel jitter).
 *   - o, fc2 (added to the residual stream): small weights (sum std ~ threshold/4) and
 *     near-zero biases, so U keeps roughly the input's distribution through the blocks.
 *   - router: small weights, zero bias.
 * SSA attention output density is not steered (it follows from Q, K, V, attnShift and
 * lif.attn). All values are clamped to weightBits / biasBits / residBits. Measure actual
 * densities with runGolden's stats (spikes / neurons per stage).
 */
export function randomModel(r: Resolved, seed: number, density = 0.15): { model: Model; input: number[][][] } {
  if (!(density > 0 && density < 1)) throw new Error(`randomModel: density ${density} must be in (0, 1)`);
  const rnd = mulberry32(seed);
  const { T, N, D, E, F } = r;
  const wMax = maxS(r.weightBits);
  const clampB = (x: number) => sat(Math.round(x), r.biasBits) + 0; // "+ 0" turns -0 into 0

  const layer = (out: number, inp: number, w: number, biasOf: () => number): LinearWeights => {
    const weight: number[][] = [];
    for (let o = 0; o < out; o++) {
      const row = new Array<number>(inp);
      for (let i = 0; i < inp; i++) row[i] = randInt(rnd, -w, w);
      weight.push(row);
    }
    const bias = Array.from({ length: out }, () => clampB(biasOf()));
    return { weight, bias };
  };
  const jitter = (s: number) => (rnd() * 2 - 1) * s;

  // driven layers: LIF input ~ bias + sum of weights of active inputs
  const driven = (out: number, inp: number, lif: LifParams): LinearWeights => {
    const sigma = Math.max(1, Math.abs(lif.threshold));
    const w = weightRange(sigma, density * inp, r.weightBits);
    const actualSigma = Math.sqrt((density * inp * w * (w + 1)) / 3);
    // bias jitter across channels (uniform, std actualSigma/4) + weight-sum variation over (t, n)
    const mu = calibrateMean(lif, T, actualSigma / 4, Math.max(actualSigma, 1), density);
    return layer(out, inp, w, () => mu + jitter((Math.sqrt(3) * actualSigma) / 4));
  };
  // residual adders: small contribution
  const adder = (out: number, inp: number): LinearWeights => {
    const sigma = Math.max(1, Math.abs(r.lif.shortcut.threshold) / 4);
    const w = weightRange(sigma, density * inp, r.weightBits);
    return layer(out, inp, w, () => jitter(sigma / 4));
  };

  const blocks: BlockWeights[] = [];
  for (let b = 0; b < r.L; b++) {
    blocks.push({
      q: driven(D, D, r.lif.qkv),
      k: driven(D, D, r.lif.qkv),
      v: driven(D, D, r.lif.qkv),
      o: adder(D, D),
      router: layer(E, D, Math.min(4, wMax), () => 0),
      experts: Array.from({ length: E }, () => ({ fc1: driven(F, D, r.lif.hidden), fc2: adder(D, F) })),
    });
  }

  const sc = r.lif.shortcut;
  const sigmaU = Math.max(1, Math.abs(sc.threshold));
  const muU = calibrateMean(sc, T, sigmaU, sigmaU / 4, density);
  const aU = Math.sqrt(3) * sigmaU;
  const base: number[][] = [];
  for (let n = 0; n < N; n++) base.push(Array.from({ length: D }, () => muU + jitter(aU)));
  const input: number[][][] = [];
  for (let t = 0; t < T; t++)
    input.push(base.map((row) => row.map((x) => sat(Math.round(x + jitter((Math.sqrt(3) * sigmaU) / 4)), r.residBits) + 0)));
  return { model: { blocks }, input };
}
