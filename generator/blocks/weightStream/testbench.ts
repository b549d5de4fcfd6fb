/**
 * Testbench generation for weightStream: a TB holding several weight streams (one per shape),
 * each with its two buffer halves (behavioural logical memories), an off-chip memory model
 * (weightStream_tb_offchipMem.v.hbs, reusable: `renderOffchipMem`) and a random consumer; per
 * stimulus, the descriptor list, the consumer's layers and reads, the golden words every read
 * returns, the off-chip image and the memory model's run-time options (plusargs).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import type { GeneratedFile } from "../../core/files.ts";
import { renderFile } from "../../render/render.ts";
import { resizeU, ulit } from "../../render/verilog.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { Prng } from "../../util/prng.ts";
import { renderRam1r1w } from "../memory/ram1r1w.ts";
import { streamRead } from "./golden.ts";
import { renderWeightStream, weightStreamLayout, weightStreamTraffic, type StreamTraffic, type WeightStreamParams } from "./weightStream.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------
// The off-chip memory model (also for `st3d run` later)

export interface OffchipMemShape {
  /** module name */
  module: string;
  beatBits: number;
  addrBits: number;
  /** beats the image may hold (the model's array) */
  depthBeats: number;
  /** plusarg prefix, e.g. "ocm0_" -> +ocm0_latency=... */
  plus: string;
  /** bursts the model queues (AR accepted ahead of the data), default 16 */
  queue?: number;
}

/** The AXI4 read-slave memory model as a testbench file. */
export function renderOffchipMem(s: OffchipMemShape): GeneratedFile {
  const beatBytes = s.beatBits / 8;
  const byteBits = Math.log2(beatBytes);
  if (!Number.isInteger(byteBits) || s.beatBits < 8) throw new Error(`offchip memory model: beat width ${s.beatBits} is not a power of two >= 8`);
  if (!/^[A-Za-z0-9_]+$/.test(s.plus)) throw new Error(`offchip memory model: plusarg prefix '${s.plus}' must be letters, digits and _`);
  const queue = s.queue ?? 16;
  return {
    path: `${s.module}.v`,
    kind: "tb",
    content: renderFile(path.join(here, "weightStream_tb_offchipMem.v.hbs"), {
      module: s.module,
      plus: s.plus,
      depthBeats: s.depthBeats,
      beatBits: s.beatBits,
      beatBytes,
      beatMsb: s.beatBits - 1,
      addrMsb: s.addrBits - 1,
      depthLast: s.depthBeats - 1,
      depthLastLit: ulit(s.addrBits, s.depthBeats - 1),
      queue,
      queueLast: queue - 1,
      byteBits,
      arsizeText: `${byteBits} (${beatBytes} bytes)`,
      arsizeLit: ulit(3, byteBits),
      beatBytesLit: ulit(20, beatBytes),
      misaligned: byteBits === 0 ? "1'b0" : `(araddr[${byteBits - 1}:0] !== ${ulit(byteBits, 0)})`,
      arlenToAddr: resizeU("arlen", 8, s.addrBits),
    }),
  };
}

/** Run-time options of the memory model (its plusargs). */
export interface OffchipMemOptions {
  /** extra cycles from the AR handshake to the first beat (first beat >= handshake cycle + 1 + latency) */
  latency: number;
  /** bandwidth bwNum / bwDen bytes per cycle */
  bwNum: number;
  bwDen: number;
  /** arready / rvalid offered with probability x / 256 */
  arProb: number;
  rProb: number;
  seed: number;
}

export function offchipMemPlusargs(plus: string, image: string, o: OffchipMemOptions): string[] {
  return [`+${plus}image=${image}`, `+${plus}latency=${o.latency}`, `+${plus}bw_num=${o.bwNum}`, `+${plus}bw_den=${o.bwDen}`, `+${plus}ar_prob=${o.arProb}`, `+${plus}r_prob=${o.rProb}`, `+${plus}seed=${o.seed}`];
}

// ---------------------------------------------------------------------------------------------
// The weightStream testbench

export interface WsTbInstance {
  p: WeightStreamParams;
  label: string;
  maxLayers: number;
  maxReads: number;
  /** beats of the memory model's image array */
  imageBeats: number;
}

export interface WsRead {
  addr: number;
  /** idle cycles before the request, 0..15 */
  gap: number;
}

export interface WsRun {
  /** words of every layer, in order of use */
  layers: bigint[][];
  /** byte address of the first layer (a multiple of the beat size) */
  base: number;
  /** per layer: cycles between descriptors, 0..15 */
  descGaps: number[];
  /** per layer: use_start this many cycles after the previous use_done (0: same cycle), 0..15 */
  startIdle: number[];
  /** per layer: use_done this many cycles after the last read's data (0: in that cycle), 0..15 */
  doneDelay: number[];
  /** per layer: the consumer's reads, in order */
  reads: WsRead[][];
  mem: OffchipMemOptions;
}

const bitsOfDesc = (p: WeightStreamParams) => {
  const descWordsLo = p.addrBits;
  const descGapLo = descWordsLo + p.countBits;
  return { descWordsLo, descWordsHi: descGapLo - 1, descGapLo, descGapHi: descGapLo + 3, descBits: descGapLo + 4 };
};

export function renderWsTb(r: Resolved, tbModule: string, insts: WsTbInstance[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  insts.forEach((i, idx) => {
    files.push(...renderWeightStream(r, i.p));
    for (const m of i.p.memories) files.push(renderRam1r1w(r, m.mem, "tb"));
    files.push(renderOffchipMem({ module: `${tbModule}_ocm${idx}`, beatBits: i.p.beatBits, addrBits: i.p.addrBits, depthBeats: i.imageBeats, plus: `ocm${idx}_` }));
  });
  const ctx = {
    tbModule,
    insts: insts.map((inst, idx) => {
      const p = inst.p;
      const d = bitsOfDesc(p);
      return {
        module: p.module,
        label: inst.label,
        px: `i${idx}_`,
        mem0: p.memories[0].mem.module,
        mem1: p.memories[1].mem.module,
        ocm: `${tbModule}_ocm${idx}`,
        addrBits: p.addrBits,
        countBits: p.countBits,
        wAddrBits: p.wAddrBits,
        beatsPerWord: p.beatsPerWord,
        addrMsb: p.addrBits - 1,
        countMsb: p.countBits - 1,
        wAddrMsb: p.wAddrBits - 1,
        wordMsb: p.wordBits - 1,
        beatMsb: p.beatBits - 1,
        descMsb: d.descBits - 1,
        descWordsLo: d.descWordsLo,
        descWordsHi: d.descWordsHi,
        descGapLo: d.descGapLo,
        descGapHi: d.descGapHi,
        rdMsb: p.wAddrBits + 3,
        rdGapLo: p.wAddrBits,
        rdGapHi: p.wAddrBits + 3,
        layLast: inst.maxLayers - 1,
        rdLast: inst.maxReads - 1,
      };
    }),
  };
  files.push({ path: `${tbModule}.v`, kind: "tb", content: renderFile(path.join(here, "weightStream_tb.v.hbs"), ctx) });
  return files;
}

export interface WsRunStats extends StreamTraffic {
  reads: number;
  layers: number;
  /** plusargs of the memory model */
  plusargs: string[];
}

/** Write the files of one stimulus set (one WsRun per instance); returns the expected traffic per instance. */
export function writeWsStimulus(dir: string, insts: WsTbInstance[], runs: WsRun[]): WsRunStats[] {
  fs.mkdirSync(dir, { recursive: true });
  return insts.map((inst, idx) => {
    const { p } = inst;
    const run = runs[idx];
    const n = run.layers.length;
    const bad = (m: string) => {
      throw new Error(`weightStream TB ${inst.label}: ${m}`);
    };
    if (n < 1 || n > inst.maxLayers) bad(`${n} layers, capacity ${inst.maxLayers}`);
    for (const a of [run.descGaps, run.startIdle, run.doneDelay, run.reads]) if (a.length !== n) bad("per-layer lists of different lengths");
    const lay = weightStreamLayout(run.layers, p.wordBits, p.beatBits, { base: run.base });
    const traffic = weightStreamTraffic(p, lay.descriptors);
    const img = [...Array(run.base / p.beatBytes).fill(0n), ...lay.beats];
    if (img.length > inst.imageBeats) bad(`image of ${img.length} beats > model capacity ${inst.imageBeats}`);
    const d = bitsOfDesc(p);
    const desc = lay.descriptors.map((x, k) => ((BigInt(run.descGaps[k]) << BigInt(d.descGapLo)) | (BigInt(x.words) << BigInt(d.descWordsLo)) | BigInt(x.base)).toString(16));
    const lays = run.reads.map((rs, k) => {
      if (rs.length >= 1 << 16) bad("too many reads in a layer");
      for (const v of [run.startIdle[k], run.doneDelay[k], run.descGaps[k]]) if (!(v >= 0 && v <= 15)) bad("idle/gap outside 0..15");
      return ((run.startIdle[k] << 20) | (run.doneDelay[k] << 16) | rs.length).toString(16);
    });
    const rds: string[] = [];
    const exps: string[] = [];
    run.reads.forEach((rs, k) =>
      rs.forEach((x) => {
        if (x.gap < 0 || x.gap > 15) bad("read gap outside 0..15");
        rds.push(((BigInt(x.gap) << BigInt(p.wAddrBits)) | BigInt(x.addr)).toString(16));
        exps.push(streamRead(run.layers, k, x.addr).toString(16));
      }),
    );
    if (rds.length > inst.maxReads) bad(`${rds.length} reads > capacity ${inst.maxReads}`);
    const m = run.mem;
    // cycle budget: every beat at the model's bandwidth and gaps, every burst's latency in series,
    // every read and idle cycle, times 4 (only a hung or grossly slow stream reaches it)
    const perBeat = Math.ceil((p.beatBytes * m.bwDen) / m.bwNum) * Math.ceil(256 / m.rProb);
    const perBurst = (m.latency + 3) * Math.ceil(256 / m.arProb);
    const consumer = run.reads.reduce((a, rs) => a + rs.reduce((x, y) => x + y.gap + 2, 0), 0) + n * 40;
    const timeout = 4 * (traffic.beats * perBeat + traffic.bursts * perBurst + consumer) + 2000;
    const pad = (a: string[], k: number) => a.concat(Array(k - a.length).fill("0"));
    const px = path.join(dir, `ws${idx}`);
    writeHexFile(`${px}.meta.hex`, [n, rds.length, traffic.beats, traffic.bursts, timeout].map((v) => v.toString(16)));
    writeHexFile(`${px}.desc.hex`, pad(desc, inst.maxLayers));
    writeHexFile(`${px}.lay.hex`, pad(lays, inst.maxLayers));
    writeHexFile(`${px}.rd.hex`, pad(rds, inst.maxReads));
    writeHexFile(`${px}.exp.hex`, pad(exps, inst.maxReads));
    writeHexFile(`${px}.img.hex`, pad(img.map((b) => b.toString(16)), inst.imageBeats));
    return { ...traffic, reads: rds.length, layers: n, plusargs: offchipMemPlusargs(`ocm${idx}_`, `${px}.img.hex`, m) };
  });
}

// ---------------------------------------------------------------------------------------------
// stimulus helpers

/** A random word of `bits` bits (some all-ones / zero words). */
export function randomWord(rng: Prng, bits: number): bigint {
  const u = rng.next();
  if (u < 0.05) return 0n;
  if (u < 0.1) return (1n << BigInt(bits)) - 1n;
  let w = 0n;
  for (let b = 0; b < bits; b += 30) w = (w << 30n) | BigInt(rng.int(0, 2 ** 30 - 1));
  return w & ((1n << BigInt(bits)) - 1n);
}

export type ReadStyle = "all-shuffled" | "last-first" | "in-order" | "none" | "sparse";

/**
 * The consumer's reads of a layer of `words` words: every word once in random order, the last
 * word first then the rest shuffled, every word in order, none (a layer whose rows have no
 * spikes), or a random subset with repeats.
 */
export function layerReads(rng: Prng, words: number, style: ReadStyle, gapProb: number): WsRead[] {
  const gap = () => (rng.next() < gapProb ? rng.int(1, 6) : 0);
  let addrs: number[];
  const all = [...Array(words).keys()];
  if (style === "none") addrs = [];
  else if (style === "in-order") addrs = all;
  else if (style === "last-first") addrs = [words - 1, ...rng.shuffle(all.slice(0, words - 1))];
  else if (style === "sparse") addrs = [...Array(rng.int(1, Math.max(1, Math.ceil(words / 2))))].map(() => rng.int(0, words - 1));
  else addrs = rng.shuffle(all);
  return addrs.map((addr) => ({ addr, gap: gap() }));
}


// ---------------------------------------------------------------------------------------------
// The memory model on its own (weightStream_tb_offchipCheck.v.hbs): a master with random rready

export interface OcmCheckShape {
  beatBits: number;
  addrBits: number;
  depthBeats: number;
  maxBursts: number;
  maxBeats: number;
}

export const OCM_PLUS = "ocm_";

export function renderOcmCheckTb(tbModule: string, s: OcmCheckShape): GeneratedFile[] {
  const ocm = `${tbModule}_ocm`;
  const byteBits = Math.log2(s.beatBits / 8);
  const lenLo = s.addrBits;
  const gapLo = lenLo + 8;
  return [
    renderOffchipMem({ module: ocm, beatBits: s.beatBits, addrBits: s.addrBits, depthBeats: s.depthBeats, plus: OCM_PLUS }),
    {
      path: `${tbModule}.v`,
      kind: "tb",
      content: renderFile(path.join(here, "weightStream_tb_offchipCheck.v.hbs"), {
        tbModule,
        ocm,
        addrBits: s.addrBits,
        addrMsb: s.addrBits - 1,
        beatMsb: s.beatBits - 1,
        expMsb: s.beatBits,
        arMsb: gapLo + 3,
        lenLo,
        lenHi: gapLo - 1,
        gapLo,
        gapHi: gapLo + 3,
        burstLast: s.maxBursts - 1,
        beatLast: s.maxBeats - 1,
        arsizeLit: ulit(3, byteBits),
      }),
    },
  ];
}

export interface OcmBurst {
  /** byte address (beat aligned, no 4 KB crossing with its beats) */
  addr: number;
  beats: number;
  /** idle cycles before it is offered, 0..15 */
  gap: number;
}

/** Write meta/ar/exp/image files of one run; returns the memory model's plusargs. */
export function writeOcmCheckStimulus(dir: string, s: OcmCheckShape, image: bigint[], bursts: OcmBurst[], rreadyProb: number, mem: OffchipMemOptions): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const bb = s.beatBits / 8;
  const exp: string[] = [];
  const ar = bursts.map((b) => {
    if (b.addr % bb !== 0 || b.beats < 1 || b.beats > 256 || Math.floor(b.addr / 4096) !== Math.floor((b.addr + b.beats * bb - 1) / 4096) || b.addr / bb + b.beats > image.length) throw new Error(`memory model TB: illegal burst ${b.addr}+${b.beats}`);
    for (let i = 0; i < b.beats; i++) exp.push(((BigInt(i === b.beats - 1 ? 1 : 0) << BigInt(s.beatBits)) | image[b.addr / bb + i]).toString(16));
    return ((BigInt(b.gap) << BigInt(s.addrBits + 8)) | (BigInt(b.beats - 1) << BigInt(s.addrBits)) | BigInt(b.addr)).toString(16);
  });
  if (bursts.length > s.maxBursts || exp.length > s.maxBeats || image.length > s.depthBeats) throw new Error("memory model TB: stimulus exceeds the TB's capacity");
  const perBeat = Math.ceil((bb * mem.bwDen) / mem.bwNum) * Math.ceil(256 / mem.rProb) * Math.ceil(256 / rreadyProb);
  const timeout = 4 * (exp.length * perBeat + bursts.length * (mem.latency + 20) * Math.ceil(256 / mem.arProb)) + 1000;
  writeHexFile(path.join(dir, "meta.hex"), [bursts.length, exp.length, rreadyProb, mem.seed * 7 + 1, timeout, mem.latency].map((v) => v.toString(16)));
  writeHexFile(path.join(dir, "ar.hex"), ar);
  writeHexFile(path.join(dir, "exp.hex"), exp);
  writeHexFile(path.join(dir, "img.hex"), image.map((b) => b.toString(16)).concat(Array(s.depthBeats - image.length).fill("0")));
  return offchipMemPlusargs(OCM_PLUS, path.join(dir, "img.hex"), mem);
}
