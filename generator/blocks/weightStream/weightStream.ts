/**
 * weightStream — a double-buffered global weight buffer filled by a DMA from off-chip memory
 * through an AXI4 read-channel master (docs/ARCHITECTURE.md "## weightStream", docs/HOST.md
 * "Off-chip weight port").  Layer descriptors (off-chip base, words) are fetched in order into
 * two halves (ping-pong); the consumer (the synaptic pool, later) reads the current half with
 * the engine's request/grant protocol, granted as soon as the addressed word has arrived.
 * Parameters, rendering, the off-chip layout of the weights and the traffic/cycle model.
 * Golden model: ./golden.ts.  Testbench: ./weightStream_tb.v.hbs (+ the reusable off-chip
 * memory model ./weightStream_tb_offchipMem.v.hbs) and ./testbench.ts.  Tests: ./weightStream.test.ts.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import type { GeneratedFile } from "../../core/files.ts";
import { renderVerilog } from "../../render/render.ts";
import { ones, resizeU, ulit, zext } from "../../render/verilog.ts";
import { idxBits, signedBitsFor, unsignedBitsFor } from "../../util/bits.ts";
import type { Block, BlockMemory } from "../block.ts";
import { logicalMemory } from "../memory/ram1r1w.ts";
import { burstsOf } from "./golden.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** AXI4: at most 256 beats per INCR burst, and a burst never crosses a 4 KB boundary. */
export const AXI_MAX_BURST = 256;
export const AXI_PAGE_BYTES = 4096;

export interface WeightStreamOptions {
  /** words of the largest layer the buffer must hold (= depth of each half); weightStreamDepth() */
  maxLayerWords: number;
  /** W, bits of an off-chip beat (AXI data width): a power of two, 8 .. 1024 (default 128) */
  beatBits?: number;
  /** bits of a pool word (default r.geo.lanes * r.weightBits: P lanes of weightBits) */
  wordBits?: number;
  /** width of araddr / ld_base (default 32, at least 12) */
  addrBits?: number;
  /** longest burst issued, 1 .. 256 beats (default 256; a test may lower it) */
  maxBurst?: number;
  /** how many layers the consumer may finish ahead of the DMA (default 64: more than a preset's layers per inference) */
  maxLead?: number;
  /** module-name suffix (default none: `<name>_weightStream`) */
  tag?: string;
}

export interface WeightStreamParams {
  module: string;
  /** depth of each half, in words */
  depth: number;
  wordBits: number;
  beatBits: number;
  beatBytes: number;
  /** K = ceil(wordBits / W): beats per word in the off-chip layout */
  beatsPerWord: number;
  /** bits of the word's last beat that carry data (the rest is zero padding) */
  lastBeatBits: number;
  addrBits: number;
  /** log2(beatBytes): the byte offset bits of an address (0 in every beat address) */
  byteBits: number;
  /** bits of a beat index inside a 4 KB page (12 - byteBits) */
  pageBits: number;
  /** longest burst: min(maxBurst, beats of a 4 KB page) */
  maxBurst: number;
  /** word address inside a half (rd_addr, the halves' raddr/waddr) */
  wAddrBits: number;
  /** ld_words and the fill counts: 0 .. depth */
  countBits: number;
  /** beats still to request of a layer: 0 .. depth * K */
  leftBits: number;
  /** width of the burst-length arithmetic (>= 9: holds 256) */
  lenBits: number;
  /** signed lead counter (layers allocated - layers done): -maxLead .. 2 */
  leadBits: number;
  maxLead: number;
  /** the two halves: wb0, wb1 (access "rw": the DMA writes, the consumer reads) */
  memories: BlockMemory[];
}

const isPow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** Depth of a half: the largest layer's words (every layer of the stream must fit one half). */
export function weightStreamDepth(layerWords: readonly number[]): number {
  if (layerWords.length === 0) throw new Error("weightStream: no layers to size the buffer for");
  for (const w of layerWords) if (!(Number.isInteger(w) && w >= 1)) throw new Error(`weightStream: a layer has ${w} words; every layer has at least one word`);
  return Math.max(...layerWords);
}

export function weightStreamParams(r: Resolved, o: WeightStreamOptions): WeightStreamParams {
  const W = o.beatBits ?? 128;
  const wordBits = o.wordBits ?? r.geo.lanes * r.weightBits;
  const A = o.addrBits ?? 32;
  const maxLead = o.maxLead ?? 64;
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw new Error(`weightStream: ${msg}`);
  };
  need(isPow2(W) && W >= 8 && W <= 1024, `beat width ${W} bits: an AXI data width is a power of two from 8 to 1024 bits (set beatBits to one)`);
  need(Number.isInteger(wordBits) && wordBits >= 1, `word width ${wordBits}: must be a positive integer (lanes x weightBits)`);
  need(Number.isInteger(o.maxLayerWords) && o.maxLayerWords >= 1, `maxLayerWords ${o.maxLayerWords}: the half depth is the largest layer's words, at least 1 (weightStreamDepth(layer words))`);
  need(Number.isInteger(A) && A >= 12 && A <= 64, `address width ${A}: use 12 .. 64 bits (the 4 KB page rule needs address bits 11..0)`);
  need(Number.isInteger(maxLead) && maxLead >= 1, `maxLead ${maxLead}: at least 1 (set it to the layers of an inference)`);
  const maxBurstIn = o.maxBurst ?? AXI_MAX_BURST;
  need(Number.isInteger(maxBurstIn) && maxBurstIn >= 1 && maxBurstIn <= AXI_MAX_BURST, `maxBurst ${maxBurstIn}: AXI4 INCR bursts have 1 .. 256 beats`);
  const beatBytes = W / 8;
  const byteBits = Math.log2(beatBytes);
  const pageBits = 12 - byteBits;
  const K = Math.ceil(wordBits / W);
  const depth = o.maxLayerWords;
  const imageBytes = depth * K * beatBytes * 2;
  need(imageBytes <= 2 ** A, `a layer of ${depth} words (${depth * K} beats) does not fit a ${A}-bit address space: widen addrBits`);
  const leftBits = unsignedBitsFor(depth * K);
  const module = `${r.name}_weightStream${o.tag ? `_${o.tag}` : ""}`;
  const half = (h: number): BlockMemory => ({
    mem: logicalMemory(`${module.replace(/_weightStream/, "_mem_wbuf")}${h}`, `global weight buffer half ${h}`, depth, wordBits, { kind: "weights" }),
    prefix: `wb${h}`,
    access: "rw",
    hostWritable: false,
    role: `half ${h} of the double-buffered weight buffer: word a of the layer being fetched into / read from it (lane l = bits [l*weightBits +: weightBits])`,
  });
  return {
    module,
    depth,
    wordBits,
    beatBits: W,
    beatBytes,
    beatsPerWord: K,
    lastBeatBits: wordBits - (K - 1) * W,
    addrBits: A,
    byteBits,
    pageBits,
    maxBurst: Math.min(maxBurstIn, 2 ** pageBits),
    wAddrBits: idxBits(depth),
    countBits: unsignedBitsFor(depth),
    leftBits,
    lenBits: Math.max(leftBits, pageBits + 1, 9),
    leadBits: Math.max(3, signedBitsFor(-maxLead, 2)),
    maxLead,
    memories: [half(0), half(1)],
  };
}

export function weightStreamContext(p: WeightStreamParams) {
  const K = p.beatsPerWord;
  const L = p.lenBits;
  return {
    module: p.module,
    depth: p.depth,
    wordBits: p.wordBits,
    beatBits: p.beatBits,
    beatsPerWord: K,
    maxBurst: p.maxBurst,
    maxLead: p.maxLead,
    addrMsb: p.addrBits - 1,
    wAddrMsb: p.wAddrBits - 1,
    countMsb: p.countBits - 1,
    leftMsb: p.leftBits - 1,
    lenMsb: L - 1,
    leadMsb: p.leadBits - 1,
    wordMsb: p.wordBits - 1,
    beatMsb: p.beatBits - 1,
    /** araddr[11:byteBits]: the beat index inside the 4 KB page */
    pageSlice: `rq_addr[11:${p.byteBits}]`,
    pageToLen: zext(`page_idx`, p.pageBits, L),
    pageIdxMsb: p.pageBits - 1,
    pageBeatsLit: ulit(L, 2 ** p.pageBits),
    maxBurstLit: ulit(L, p.maxBurst),
    leftToLen: zext("rq_left", p.leftBits, L),
    lenToLeft: resizeU("blen", L, p.leftBits),
    /** burst bytes = blen << byteBits, at the address width */
    lenToBytes: p.byteBits === 0 ? resizeU("blen", L, p.addrBits) : `{ ${resizeU("blen", L, p.addrBits - p.byteBits)}, ${p.byteBits}'b0 }`,
    arlenExpr: `blen_m1[7:0]`,
    arsizeLit: ulit(3, p.byteBits),
    /** beats of a layer: ld_words * K */
    wordsToBeats: K === 1 ? zext("ld_words", p.countBits, p.leftBits) : `${zext("ld_words", p.countBits, p.leftBits)} * ${ulit(p.leftBits, K)}`,
    addrToCount: zext("rd_addr", p.wAddrBits, p.countBits),
    countToAddr: resizeU("cnt_r", p.countBits, p.wAddrBits),
    one: { count: ulit(p.countBits, 1), lead: ulit(p.leadBits, 1), len: ulit(L, 1) },
    zero: { count: ulit(p.countBits, 0), lead: ulit(p.leadBits, 0), left: ulit(p.leftBits, 0), addr: ulit(p.addrBits, 0) },
    leadTwo: ulit(p.leadBits, 2),
    onesWord: ones(p.wordBits),
    // word assembly from K beats (little-endian: beat i is word bits [i*W +: W])
    multiBeat: K > 1,
    ...(K > 1
      ? {
          biMsb: idxBits(K) - 1,
          biLast: ulit(idxBits(K), K - 1),
          biZero: ulit(idxBits(K), 0),
          biOne: ulit(idxBits(K), 1),
          asmMsb: (K - 1) * p.beatBits - 1,
          asmShift: K > 2 ? `{ rdata, asm_r[${(K - 1) * p.beatBits - 1}:${p.beatBits}] }` : "rdata",
          wordOf: `{ ${p.lastBeatBits === p.beatBits ? "rdata" : `rdata[${p.lastBeatBits - 1}:0]`}, asm_r }`,
          /** rdata bits past the last beat's data: padding, never stored */
          unusedBits: "rlast",
        }
      : {
          wordOf: p.wordBits === p.beatBits ? "rdata" : `rdata[${p.wordBits - 1}:0]`,
          unusedBits: p.wordBits === p.beatBits ? "rlast" : `rlast, rdata[${p.beatBits - 1}:${p.wordBits}]`,
        }),
  };
}

export function renderWeightStream(r: Resolved, p: WeightStreamParams): GeneratedFile[] {
  return [renderVerilog(r, path.join(here, "weightStream.v.hbs"), `${p.module}.v`, `double-buffered weight buffer with an AXI4 read DMA (${p.depth} words x ${p.wordBits} bits per half, ${p.beatBits}-bit beats)`, weightStreamContext(p))];
}

// ---------------------------------------------------------------------------------------------
// Off-chip layout

export interface LayerDescriptor {
  /** off-chip byte address of the layer's first beat (a multiple of the beat size) */
  base: number;
  /** pool words of the layer */
  words: number;
}

export interface WeightStreamLayout {
  /** the image, one W-bit beat per entry, beat i at byte address i * W/8 */
  beats: bigint[];
  /** the same image as bytes (little-endian inside a beat) */
  bytes: Uint8Array;
  /** one descriptor per layer, in order of use */
  descriptors: LayerDescriptor[];
  /** K = ceil(wordBits / W) */
  beatsPerWord: number;
  /** bytes of weights proper: sum of words x wordBits / 8 (fractional when wordBits is not a multiple of 8) */
  payloadBytes: number;
  /** bytes the DMA reads: sum of words x K x W/8 (the image size when the layers are packed from 0) */
  readBytes: number;
  /** readBytes - payloadBytes: the zero padding of every word to K beats */
  overheadBytes: number;
}

/**
 * The off-chip layout: layers one after another from `base` (default 0, a multiple of W/8),
 * each word in K = ceil(wordBits / W) consecutive beats, little-endian (beat i of a word holds
 * word bits [i*W, (i+1)*W): lane 0 first), the bits past wordBits in the last beat zero.  A
 * layer starts at the beat after the previous layer's last word (no alignment beyond the beat).
 * Overhead per word: K*W - wordBits bits (e.g. 616-bit words in 128-bit beats: 24 bits, 3.9 %).
 * @param layers words of every layer, in order of use, each word < 2^wordBits
 */
export function weightStreamLayout(layers: bigint[][], wordBits: number, W: number, o: { base?: number } = {}): WeightStreamLayout {
  if (!(isPow2(W) && W >= 8)) throw new Error(`weightStreamLayout: beat width ${W} is not a power of two >= 8`);
  if (!(Number.isInteger(wordBits) && wordBits >= 1)) throw new Error(`weightStreamLayout: bad word width ${wordBits}`);
  const base = o.base ?? 0;
  const beatBytes = W / 8;
  if (!(Number.isInteger(base) && base >= 0 && base % beatBytes === 0)) throw new Error(`weightStreamLayout: base ${base} is not a multiple of the beat size ${beatBytes} bytes`);
  const K = Math.ceil(wordBits / W);
  const mask = (1n << BigInt(W)) - 1n;
  const beats: bigint[] = [];
  const descriptors: LayerDescriptor[] = [];
  let words = 0;
  layers.forEach((layer, k) => {
    if (layer.length === 0) throw new Error(`weightStreamLayout: layer ${k} has no words (every layer has at least one)`);
    descriptors.push({ base: base + beats.length * beatBytes, words: layer.length });
    for (const w of layer) {
      if (w < 0n || w >> BigInt(wordBits) !== 0n) throw new Error(`weightStreamLayout: a word of layer ${k} does not fit ${wordBits} bits`);
      for (let i = 0; i < K; i++) beats.push((w >> BigInt(i * W)) & mask);
    }
    words += layer.length;
  });
  const bytes = new Uint8Array(beats.length * beatBytes);
  beats.forEach((b, i) => {
    for (let j = 0; j < beatBytes; j++) bytes[i * beatBytes + j] = Number((b >> BigInt(8 * j)) & 0xffn);
  });
  const readBytes = words * K * beatBytes;
  const payloadBytes = (words * wordBits) / 8;
  return { beats, bytes, descriptors, beatsPerWord: K, payloadBytes, readBytes, overheadBytes: readBytes - payloadBytes };
}

// ---------------------------------------------------------------------------------------------
// Traffic and cycle model

export interface StreamTraffic {
  /** beats received (= sum of words x K) */
  beats: number;
  /** AR bursts issued (each <= maxBurst beats, none crossing 4 KB: burstsOf) */
  bursts: number;
  /** bytes read from off-chip (= beats x W/8) */
  bytes: number;
}

/** Exact off-chip traffic of a descriptor sequence (independent of timing). */
export function weightStreamTraffic(p: WeightStreamParams, descs: readonly LayerDescriptor[]): StreamTraffic {
  let beats = 0;
  let bursts = 0;
  for (const d of descs) {
    if (d.words < 1 || d.words > p.depth) throw new Error(`weightStream: a layer of ${d.words} words does not fit a half of ${p.depth} words (raise maxLayerWords to the largest layer: weightStreamDepth)`);
    if (d.base % p.beatBytes !== 0) throw new Error(`weightStream: layer base ${d.base} is not a multiple of the beat size ${p.beatBytes}`);
    const n = d.words * p.beatsPerWord;
    beats += n;
    bursts += burstsOf(d.base, n, p.beatBytes, p.maxBurst).length;
  }
  return { beats, bursts, bytes: beats * p.beatBytes };
}

/**
 * A lower bound on the cycles from the first descriptor handshake (cycle t0) to the last beat
 * (cycle t1), t1 - t0, for the testbench memory model (weightStream_tb_offchipMem.v.hbs) at
 * `latency` and `bandwidth` bytes per cycle: the first AR is issued at t0 + 1, its first beat
 * comes at t0 + 2 + latency at the earliest, then at most one beat per cycle; and the model's
 * credit (capped below one beat plus one cycle's credit) lets n beats through no faster than
 * (n - 1) beats' bytes per bandwidth, minus one cycle.  With a consumer that releases halves at
 * once it is tight up to the DMA's per-layer handover (one cycle per descriptor) and the
 * model's random gaps.
 */
export function weightStreamCycleBound(t: StreamTraffic, beatBytes: number, latency: number, bandwidth: number): number {
  if (t.beats === 0) return 0;
  return Math.max(1 + latency + t.beats, Math.ceil(((t.beats - 1) * beatBytes) / bandwidth - 1e-9) - 1);
}

/**
 * The block (generator/blocks/block.ts).  Its memories are the two buffer halves (the block
 * drives both of their ports); it computes nothing of SPEC: its reference is what every read
 * returns (./golden.ts).
 */
export const weightStreamBlock: Block<WeightStreamParams, WeightStreamOptions, LayerDescriptor[], StreamTraffic> = {
  name: "weightStream",
  golden: "generator/blocks/weightStream/golden.ts",
  testedBy: ["generator/blocks/weightStream/weightStream.test.ts"],
  params: weightStreamParams,
  render: renderWeightStream,
  memories: (p) => p.memories,
  cycles: weightStreamTraffic,
};
