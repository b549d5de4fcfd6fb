/**
 * weightStream end to end: golden words -> off-chip image (the documented layout), descriptors,
 * a random consumer's reads -> RTL on Icarus and Verilator (one testbench build per simulator
 * holding four shapes: wordBits < W, = W, = 2W + 1, and the 616-bit pool word of 128-bit beats),
 * behind the off-chip memory model at several latencies, bandwidths and gap rates; every read
 * compared with the golden word, every grant with "the word has arrived", the beat and burst
 * counts with the layout's, the DMA time with the bound; lint, synthesis (no latch),
 * determinism, and a check that the testbench does fail on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import { resolveInput } from "../../config/resolve.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built, type SimResult } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { Prng } from "../../util/prng.ts";
import { imageWord, streamRead } from "./golden.ts";
import { renderWeightStream, weightStreamCycleBound, weightStreamDepth, weightStreamLayout, weightStreamParams, weightStreamTraffic } from "./weightStream.ts";
import { loadConfig } from "../../config/load.ts";
import { resolve } from "../../config/resolve.ts";
import { randomModel } from "../../model/tensors.ts";
import { unpackLanes } from "../../util/lanes.ts";
import { dataflowGeometry } from "../dataflow/dataflow.ts";
import { poolBufferBits, poolStreamBytes, poolStreamDepth, poolStreamImage, poolStreamLayers, poolStreamOrder } from "./poolStream.ts";
import { renderOcmCheckTb, writeOcmCheckStimulus, type OcmBurst, type OcmCheckShape } from "./testbench.ts";
import { layerReads, randomWord, renderWsTb, writeWsStimulus, type OffchipMemOptions, type ReadStyle, type WsRun, type WsTbInstance } from "./testbench.ts";

const r = resolveInput({ name: "ws", model: { dim: 64, heads: 2, tokens: 16, timesteps: 4 } });

const insts: WsTbInstance[] = [
  // wordBits < W (one beat per word, 24 padding bits)
  { p: weightStreamParams(r, { maxLayerWords: 40, wordBits: 40, beatBits: 64, tag: "narrow" }), label: "narrow", maxLayers: 16, maxReads: 400, imageBeats: 400 },
  // wordBits = W, the layers start 3 beats before a 4 KB boundary (bursts split there)
  { p: weightStreamParams(r, { maxLayerWords: 16, wordBits: 32, beatBits: 32, tag: "equal" }), label: "equal", maxLayers: 16, maxReads: 200, imageBeats: 1200 },
  // wordBits = 2W + 1 (three beats per word, one data bit in the last); layers of 300 beats (256-beat split)
  { p: weightStreamParams(r, { maxLayerWords: 100, wordBits: 65, beatBits: 32, tag: "kw1" }), label: "kw1", maxLayers: 16, maxReads: 800, imageBeats: 3000 },
  // the pool word of P = 77 lanes x 8 bits in 128-bit beats (K = 5), base near a 4 KB boundary
  { p: weightStreamParams(r, { maxLayerWords: 24, wordBits: 616, beatBits: 128, tag: "pool" }), label: "pool", maxLayers: 16, maxReads: 300, imageBeats: 1100 },
];
const BASES = [0, 4096 - 3 * 4, 8, 4096 - 2 * 16];

const tbModule = "ws_weightStream_tb";
const files = renderWsTb(r, tbModule, insts);
const work = buildDir("test", "weightStream");
const paths = files.map((f) => path.join(work, f.path));
const rtlOf = (i: WsTbInstance) => files.filter((f) => f.kind === "rtl" && f.path === `${i.p.module}.v`).map((f) => path.join(work, f.path));

type Style = "fast" | "slow" | "laggy" | "mixed" | "late";

/** Memory-model options: one beat per cycle, far below the consumer, above it with a long latency, random. */
function memOpts(rng: Prng, style: Style, beatBytes: number, seed: number): OffchipMemOptions {
  if (style === "fast" || style === "late") return { latency: 0, bwNum: beatBytes, bwDen: 1, arProb: 256, rProb: 256, seed };
  if (style === "slow") return { latency: 1, bwNum: 1, bwDen: 1, arProb: 200, rProb: 220, seed };
  if (style === "laggy") return { latency: 40, bwNum: 3 * beatBytes, bwDen: 2, arProb: 120, rProb: 180, seed };
  return { latency: rng.pick([0, 1, 7, 25]), bwNum: rng.int(1, 2 * beatBytes), bwDen: rng.int(1, 3), arProb: rng.int(60, 256), rProb: rng.int(60, 256), seed };
}

/**
 * The layers of one run: a 1-word layer, layers of exactly the half depth (one read last word
 * first), a layer nobody reads, many back-to-back small layers (no gaps anywhere), random ones.
 */
function makeRun(rng: Prng, inst: WsTbInstance, idx: number, style: Style, seed: number): WsRun {
  const p = inst.p;
  const D = p.depth;
  const gapProb = style === "fast" ? 0 : style === "laggy" ? 0.6 : 0.3;
  const shapes: { words: number; reads: ReadStyle; burst?: boolean }[] = [
    { words: 1, reads: "in-order" },
    { words: D, reads: "last-first" },
    { words: rng.int(1, D), reads: "all-shuffled" },
    { words: rng.int(1, D), reads: "none" },
    ...[...Array(6)].map(() => ({ words: rng.int(1, 3), reads: rng.pick(["in-order", "all-shuffled", "last-first"] as ReadStyle[]), burst: true })),
    { words: D, reads: "sparse" },
    { words: rng.int(1, D), reads: rng.pick(["all-shuffled", "last-first", "sparse"] as ReadStyle[]) },
  ];
  const g = (burst?: boolean) => (burst || style === "fast" || style === "late" ? 0 : rng.next() < gapProb ? rng.int(1, 15) : 0);
  return {
    layers: shapes.map((s) => [...Array(s.words)].map(() => randomWord(rng, p.wordBits))),
    base: BASES[idx],
    // "late": descriptors arrive long after the consumer asks (use_start, and use_done of unread layers, before the DMA took them)
    descGaps: shapes.map((s) => (style === "late" ? rng.int(8, 15) : g(s.burst))),
    startIdle: shapes.map((s) => g(s.burst)),
    doneDelay: shapes.map((s) => g(s.burst)),
    reads: shapes.map((s) => layerReads(rng, s.words, s.reads, s.burst ? 0 : gapProb)),
    mem: memOpts(rng, style, p.beatBytes, seed),
  };
}

const seeds: [number, Style][] = [
  [1, "fast"],
  [2, "slow"],
  [3, "laggy"],
  [4, "mixed"],
  [5, "late"],
];

const key = (res: SimResult, k: string, label: string): number => {
  const l = res.lines.find((x) => x.startsWith(`${k} ${label} `));
  if (!l) throw new Error(`no '${k} ${label}' line`);
  return Number(l.split(" ")[2]);
};

beforeAll(() => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
});

describe("weightStream model", () => {
  it("the layout puts word a of a layer in K little-endian beats, padding zero (decoded by the golden reader)", () => {
    const rng = new Prng(3);
    for (const [wb, W] of [[40, 64], [32, 32], [65, 32], [616, 128], [8, 8], [129, 128]]) {
      const layers = [1, 5, 3].map((n) => [...Array(n)].map(() => randomWord(rng, wb)));
      const lay = weightStreamLayout(layers, wb, W, { base: 2 * (W / 8) });
      const K = Math.ceil(wb / W);
      expect(lay.beatsPerWord).toBe(K);
      expect(lay.beats.length).toBe(9 * K);
      expect(lay.descriptors.map((d) => d.words)).toEqual([1, 5, 3]);
      lay.descriptors.forEach((d, k) => layers[k].forEach((w, a) => expect(imageWord(lay.beats, (d.base - 2 * (W / 8)) / (W / 8), a, wb, W)).toBe(w)));
      // padding bits of every last beat are zero; the bytes are the beats little-endian
      for (let i = K - 1; i < lay.beats.length; i += K) expect(lay.beats[i] >> BigInt(wb - (K - 1) * W)).toBe(0n);
      expect(lay.bytes.length).toBe(lay.beats.length * (W / 8));
      const beat1 = [...lay.bytes.slice(W / 8, W / 4)].reduceRight((a, b) => (a << 8n) | BigInt(b), 0n);
      expect(beat1).toBe(lay.beats[1]);
      expect(lay.readBytes).toBe(9 * K * (W / 8));
      expect(lay.overheadBytes).toBeCloseTo(lay.readBytes - (9 * wb) / 8, 9);
    }
    // the pool word of cifar (77 lanes x 8 bits) in 128-bit beats: 3.9 % padding
    const cifar = weightStreamLayout([[0n, 1n]], 616, 128);
    expect(cifar.overheadBytes / cifar.payloadBytes).toBeCloseTo(640 / 616 - 1, 9);
    expect(() => weightStreamLayout([[1n], []], 8, 8)).toThrow(/no words/);
    expect(() => weightStreamLayout([[256n]], 8, 8)).toThrow(/does not fit 8 bits/);
    expect(() => weightStreamLayout([[1n]], 8, 32, { base: 2 })).toThrow(/multiple of the beat size/);
  });

  it("traffic: bytes read = sum of layer words x K x W/8, checked against the buffer", () => {
    const p = insts[3].p;
    const lay = weightStreamLayout([[1n, 2n, 3n], [4n]], p.wordBits, p.beatBits);
    const t = weightStreamTraffic(p, lay.descriptors);
    expect(t).toEqual({ beats: 20, bursts: 2, bytes: 320 });
    expect(t.bytes).toBe(lay.readBytes);
    expect(weightStreamCycleBound(t, 16, 5, 1)).toBe((20 - 1) * 16 - 1);
    expect(weightStreamCycleBound(t, 16, 5, 16)).toBe(1 + 5 + 20);
    expect(() => weightStreamTraffic(p, [{ base: 0, words: 25 }])).toThrow(/raise maxLayerWords/);
    expect(weightStreamDepth([3, 17, 2])).toBe(17);
    expect(() => weightStreamDepth([3, 0])).toThrow(/at least one word/);
    expect(() => weightStreamParams(r, { maxLayerWords: 8, beatBits: 96 })).toThrow(/power of two/);
    expect(() => weightStreamParams(r, { maxLayerWords: 0 })).toThrow(/weightStreamDepth/);
    expect(() => weightStreamParams(r, { maxLayerWords: 8, maxBurst: 300 })).toThrow(/1 \.\. 256/);
    expect(streamRead([[5n, 6n]], 0, 1)).toBe(6n);
    expect(() => streamRead([[5n, 6n]], 0, 2)).toThrow(/outside/);
  });

  it("renders deterministically (same params, byte-identical files)", () => {
    const again = renderWsTb(r, tbModule, insts);
    expect(again.map((f) => f.content)).toEqual(files.map((f) => f.content));
    const p = weightStreamParams(r, { maxLayerWords: 24, wordBits: 616, beatBits: 128, tag: "pool" });
    expect(renderWeightStream(r, p)[0].content).toBe(files.find((f) => f.path === `${p.module}.v`)!.content);
  });
});

describe("the pool's weights as a stream", () => {
  it("the image holds every pool layer's weights as the pool reads them (word j*fanin + c, lane l = weight[j*P + l][c])", () => {
    const rt = resolve(loadConfig("tiny"));
    const g = dataflowGeometry(rt);
    const { model } = randomModel(rt, 3);
    const W = 32;
    const img = poolStreamImage(rt, model, W);
    const wordBits = g.P * rt.weightBits;
    expect(img.layers.length).toBe(g.L * (4 + 2 * g.E));
    img.layers.forEach((l, i) => {
      const lin = l.expert === null ? model.blocks[l.block][l.layer as "q" | "k" | "v" | "o"] : model.blocks[l.block].experts[l.expert][l.layer as "fc1" | "fc2"];
      const out = lin.weight.length;
      const fanin = lin.weight[0].length;
      expect(l.words, `${l.layer} of block ${l.block}`).toBe(Math.ceil(out / g.P) * fanin);
      const first = img.layout.descriptors[i].base / (W / 8);
      for (let a = 0; a < l.words; a++) {
        const j = Math.floor(a / fanin);
        const c = a % fanin;
        const lanes = unpackLanes(imageWord(img.layout.beats, first, a, wordBits, W), rt.weightBits, g.P);
        lanes.forEach((v, ln) => expect(v).toBe(j * g.P + ln < out ? lin.weight[j * g.P + ln][c] : 0));
      }
    });
    // the consumer's order for a routing: q, k, v, o, then the routed experts' fc1, fc2
    const routed = [...Array(g.L)].map((_, b) => [...Array(g.E)].map((_, e) => (b + e) % 2 === 0));
    const order = poolStreamOrder(img, routed);
    expect(order.map((o) => `${o.layer.block}${o.layer.layer}${o.layer.expert ?? ""}`).slice(0, 8)).toEqual(["0q", "0k", "0v", "0o", "0fc10", "0fc20", "0fc12", "0fc22"]);
    const bytes = poolStreamBytes(img, routed, rt);
    expect(bytes.read).toBe(order.reduce((a, o) => a + o.desc.words, 0) * (W / 8));
    expect(bytes.read).toBe(bytes.payload); // 32-bit words in 32-bit beats: no padding
  });

  it("cifar: one layer per half (1920 words), 24x less weight SRAM than the resident banks, 3.9 % padding at 128-bit beats", () => {
    const rc = resolve(loadConfig("cifar"));
    const g = dataflowGeometry(rc);
    expect(poolStreamDepth(g)).toBe(1920);
    expect(poolStreamLayers(g).every((l) => l.words === 1920)).toBe(true);
    const { buffer, banks } = poolBufferBits(rc, g);
    expect(buffer).toBe(2 * 1920 * 616);
    expect(banks / buffer).toBeGreaterThanOrEqual(10);
    const p = weightStreamParams(rc, { maxLayerWords: poolStreamDepth(g) });
    expect(p.wordBits).toBe(616);
    expect((p.beatsPerWord * p.beatBits) / p.wordBits - 1).toBeLessThan(0.05);
  });
});

describe("weightStream RTL", () => {
  it("lints clean with verilator -Wall", async () => {
    for (const i of insts) {
      const res = await verilatorLint(rtlOf(i), i.p.module);
      expect(res.warnings, res.output).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    for (const i of insts) {
      const res = await yosysSynth(rtlOf(i), i.p.module, path.join(work, "synth", i.p.module));
      expect(res.latches).toBe(0);
      expect(res.totalCells).toBeGreaterThan(0);
    }
  });

  for (const sim of SIMS) {
    describe(sim, () => {
      let built: Built;
      beforeAll(async () => {
        built = await buildSim(sim, paths, tbModule, work);
      });
      for (const [seed, style] of seeds) {
        it(`every read returns the golden word, grants and counters exact (seed ${seed}, ${style})`, async () => {
          const rng = new Prng(seed);
          const runs = insts.map((i, idx) => makeRun(rng, i, idx, style, seed + idx));
          const dir = path.join(work, `data_${sim}_${seed}`);
          const stats = writeWsStimulus(dir, insts, runs);
          const res = await runSimExpectPass(built, [`+data=${dir}`, ...stats.flatMap((s) => s.plusargs)], seed);
          insts.forEach((inst, i) => {
            const st = stats[i];
            expect(key(res, "BEATS", inst.label), inst.label).toBe(st.beats);
            expect(key(res, "BURSTS", inst.label), inst.label).toBe(st.bursts);
            const m = runs[i].mem;
            const bound = weightStreamCycleBound(st, inst.p.beatBytes, m.latency, m.bwNum / m.bwDen);
            expect(key(res, "DMA", inst.label), inst.label).toBeGreaterThanOrEqual(bound);
            const dma = key(res, "DMA", inst.label);
            if (style === "slow") {
              expect(key(res, "WAITS", inst.label), `${inst.label}: a slow memory makes the consumer wait`).toBeGreaterThan(0);
              // the memory is the bottleneck: the DMA keeps it busy (bursts back to back, the next layer's behind them)
              expect(dma, `${inst.label}: DMA time near the bandwidth bound`).toBeLessThanOrEqual(1.2 * bound);
            }
            // one beat per cycle and words of >= 3 beats: the consumer never holds a half, so the DMA
            // runs at the bound plus at most one handover cycle per layer
            if (style === "fast" && inst.p.beatsPerWord >= 3) expect(dma, inst.label).toBeLessThanOrEqual(bound + st.layers);
          });
          if (style === "fast" || style === "slow")
            console.log(`[${sim}] ${style}: ` + insts.map((inst, i) => `${inst.label} ${stats[i].beats} beats ${stats[i].bursts} bursts, DMA ${key(res, "DMA", inst.label)} cycles (bound ${weightStreamCycleBound(stats[i], inst.p.beatBytes, runs[i].mem.latency, runs[i].mem.bwNum / runs[i].mem.bwDen)}), waits ${key(res, "WAITS", inst.label)}`).join("; "));
        });
      }
      it("fails loudly when one expected value is wrong", async () => {
        const rng = new Prng(21);
        const runs = insts.map((i, idx) => makeRun(rng, i, idx, "mixed", 21 + idx));
        const dir = path.join(work, `data_${sim}_broken`);
        const stats = writeWsStimulus(dir, insts, runs);
        const f = path.join(dir, "ws3.exp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[2] = (BigInt("0x" + lines[2]) ^ (1n << 600n)).toString(16);
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`, ...stats.flatMap((s) => s.plusargs)], 21);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH ws_weightStream_pool read #2 /);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// the memory model alone, behind a master with random rready (the weight stream ties rready to 1)

const ocmShape: OcmCheckShape = { beatBits: 64, addrBits: 32, depthBeats: 2048, maxBursts: 64, maxBeats: 4096 };
const ocmTb = "ws_ocm_tb";
const ocmFiles = renderOcmCheckTb(ocmTb, ocmShape);
const ocmWork = buildDir("test", "weightStream_ocm");

/** Random legal bursts over the image (beat aligned, <= 256 beats, inside a 4 KB page). */
function ocmBursts(rng: Prng, n: number, gaps: boolean): OcmBurst[] {
  const bb = ocmShape.beatBits / 8;
  return [...Array(n)].map(() => {
    const beat = rng.int(0, ocmShape.depthBeats - 1);
    const toPage = (4096 - ((beat * bb) % 4096)) / bb;
    const beats = rng.int(1, Math.min(rng.pick([4, 40, 256]), toPage, ocmShape.depthBeats - beat));
    return { addr: beat * bb, beats, gap: gaps && rng.next() < 0.4 ? rng.int(1, 15) : 0 };
  });
}

const bursts = (res: SimResult) =>
  res.lines
    .filter((l) => l.startsWith("BURST "))
    .map((l) => l.split(" ").slice(2).map(Number))
    .map(([ar, first, last]) => ({ ar, first, last }));

describe("off-chip memory model", () => {
  beforeAll(() => {
    for (const f of ocmFiles) fs.writeFileSync(path.join(ocmWork, f.path), f.content);
  });
  for (const sim of SIMS) {
    describe(sim, () => {
      let built: Built;
      beforeAll(async () => {
        built = await buildSim(sim, ocmFiles.map((f) => path.join(ocmWork, f.path)), ocmTb, ocmWork);
      });
      const image = (rng: Prng) => [...Array(ocmShape.depthBeats)].map(() => randomWord(rng, ocmShape.beatBits));

      it("latency exact: first beat = max(AR cycle + 1 + L, previous last + 1) at one beat per cycle", async () => {
        const rng = new Prng(31);
        const bs = ocmBursts(rng, 30, true);
        const dir = path.join(ocmWork, `d_${sim}_lat`);
        for (const L of [0, 1, 9]) {
          const plus = writeOcmCheckStimulus(dir, ocmShape, image(rng), bs, 256, { latency: L, bwNum: 8, bwDen: 1, arProb: 256, rProb: 256, seed: 3 });
          const res = await runSimExpectPass(built, [`+data=${dir}`, ...plus], 3);
          const got = bursts(res);
          expect(got.length).toBe(bs.length);
          let prevLast = -Infinity;
          got.forEach((g, k) => {
            expect(g.first, `L ${L} burst ${k}`).toBe(Math.max(g.ar + 1 + L, prevLast + 1));
            expect(g.last - g.first + 1).toBe(bs[k].beats);
            prevLast = g.last;
          });
        }
      });

      it("bandwidth below one beat per cycle: n beats take (n - 1) beats' bytes / bandwidth cycles", async () => {
        const rng = new Prng(32);
        const bs = ocmBursts(rng, 12, false);
        const n = bs.reduce((a, b) => a + b.beats, 0);
        const dir = path.join(ocmWork, `d_${sim}_bw`);
        for (const [num, den] of [[3, 1], [1, 4], [5, 2]]) {
          const plus = writeOcmCheckStimulus(dir, ocmShape, image(rng), bs, 256, { latency: 2, bwNum: num, bwDen: den, arProb: 256, rProb: 256, seed: 4 });
          const got = bursts(await runSimExpectPass(built, [`+data=${dir}`, ...plus], 4));
          const span = got[got.length - 1].last - got[0].first;
          const ideal = ((n - 1) * 8 * den) / num;
          expect(span, `${num}/${den} B/cycle`).toBeGreaterThanOrEqual(Math.ceil(ideal - 1e-9) - 1);
          expect(span, `${num}/${den} B/cycle`).toBeLessThanOrEqual(Math.ceil(ideal) + 1);
        }
      });

      it("random rready, arready and rvalid gaps: every beat in order, held under backpressure", async () => {
        for (const seed of [33, 34]) {
          const rng = new Prng(seed);
          const bs = ocmBursts(rng, 40, true);
          const dir = path.join(ocmWork, `d_${sim}_${seed}`);
          const plus = writeOcmCheckStimulus(dir, ocmShape, image(rng), bs, rng.int(40, 200), { latency: rng.pick([0, 3, 30]), bwNum: rng.int(1, 16), bwDen: rng.int(1, 3), arProb: rng.int(50, 256), rProb: rng.int(50, 256), seed });
          const got = bursts(await runSimExpectPass(built, [`+data=${dir}`, ...plus], seed));
          expect(got.length).toBe(bs.length);
        }
      });

      it("fails loudly when one expected beat is wrong", async () => {
        const rng = new Prng(35);
        const dir = path.join(ocmWork, `d_${sim}_broken`);
        const plus = writeOcmCheckStimulus(dir, ocmShape, image(rng), ocmBursts(rng, 10, true), 150, { latency: 1, bwNum: 8, bwDen: 1, arProb: 200, rProb: 200, seed: 35 });
        const f = path.join(dir, "exp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[5] = (BigInt("0x" + lines[5]) ^ 4n).toString(16);
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`, ...plus], 35);
        expect(res.pass).toBe(false);
        expect(res.output).toMatch(/MISMATCH ws_ocm_tb_ocm beat #5:/);
      });
    });
  }
});
