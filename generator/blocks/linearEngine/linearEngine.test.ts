/**
 * linearEngine end to end: golden model -> ROMs, layer list, spike rows and expected beats ->
 * RTL on Icarus and Verilator (one testbench build per simulator holding every shape, several
 * stimulus seeds), every output beat compared; exact cycle counts against the documented model
 * and the performance target; lint, synthesis (no latch), and a check that the testbench does
 * fail on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import { resolveInput } from "../../config/resolve.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built, type SimResult } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { Prng } from "../../util/prng.ts";
import { linear } from "./golden.ts";
import { LINEAR_FIXED_OVERHEAD, PERF_CLASSES, layerMemoryImage, linearCycleBound, linearCycles, linearEngineParams, type PerfClass } from "./linearEngine.ts";
import {
  layerMatrices,
  makeLayer,
  randomLayerOpts,
  randomMemories,
  renderLeTb,
  signedMemories,
  writeLeStimulus,
  type LeLayer,
  type LeRun,
  type LeTbInstance,
  type RowStyle,
} from "./testbench.ts";

const r = resolveInput({ name: "le", model: { dim: 64, heads: 2, tokens: 16, timesteps: 4 } });
// accumulator narrower than the output: the drain only sign-extends
const rWide = resolveInput({ name: "lw", model: { dim: 64, heads: 2, tokens: 16, timesteps: 4, accBits: 24 } });

const insts: LeTbInstance[] = [
  // the performance shape of the brief: in = out = 64, P = 16, G = 8
  { p: linearEngineParams(r, "dens", { inMax: 64, tilesMax: 4, tagBits: 8, wDepth: 256, bDepth: 4, lanes: 16, group: 8 }), label: "dens", maxLayers: 4, maxRows: 160 },
  // in = 1, P = 2 (random out 1..4: half-empty tiles), G = 3
  { p: linearEngineParams(r, "tiny", { inMax: 1, tilesMax: 2, tagBits: 4, wDepth: 2, bDepth: 2, lanes: 2, group: 3 }), label: "tiny", maxLayers: 4, maxRows: 48 },
  // P = 1, G = 1
  { p: linearEngineParams(r, "p1g1", { inMax: 5, tilesMax: 4, tagBits: 3, wDepth: 24, bDepth: 6, lanes: 1, group: 1 }), label: "p1g1", maxLayers: 4, maxRows: 48 },
  // two layers packed in one weight/bias memory, run back to back: 24->11 at 0/0, 10->5 at 72/3
  { p: linearEngineParams(r, "pack", { inMax: 24, tilesMax: 3, tagBits: 6, wDepth: 92, bDepth: 5, lanes: 4, group: 4 }), label: "pack", maxLayers: 5, maxRows: 100 },
  // accBits wider than the accumulator (no saturation logic)
  { p: linearEngineParams(rWide, "wide", { inMax: 4, tilesMax: 2, tagBits: 5, wDepth: 8, bDepth: 2, lanes: 3, group: 2 }), label: "wide", maxLayers: 4, maxRows: 48 },
];
const [DENS, TINY, P1G1, PACK, WIDE] = [0, 1, 2, 3, 4];

const tbModule = "le_linearEngine_tb";
const files = renderLeTb(r, tbModule, insts);
const work = buildDir("test", "linearEngine");
const paths = files.map((f) => path.join(work, f.path));
const rtlOf = (i: LeTbInstance) => files.filter((f) => f.kind !== "tb" && f.path.startsWith(i.p.module)).map((f) => path.join(work, f.path));

type Style = "perf" | "random" | "extreme" | "edges";

/** The two packed layers of the "pack" instance, with row counts that are not multiples of G. */
function packedLayers(rng: Prng, style: Style): LeLayer[] {
  const p = insts[PACK].p;
  const gapProb = style === "perf" ? 0 : 0.3;
  const dens = style === "extreme" ? 0.9 : 0.3;
  const A = { fanin: 24, out: 11, wbase: 0, bbase: 0, density: dens, gapProb };
  const B = { fanin: 10, out: 5, wbase: 72, bbase: 3, density: dens, gapProb };
  return [makeLayer(rng, p, { ...A, rows: 9 }), makeLayer(rng, p, { ...B, rows: 6 }), makeLayer(rng, p, { ...A, rows: 1 }), makeLayer(rng, p, { ...B, rows: 13 })];
}

function makeRuns(seed: number, style: Style): LeRun[] {
  const rng = new Prng(seed);
  const gapProb = style === "perf" ? 0 : 0.3;
  const ready = () => (style === "perf" ? 256 : rng.int(40, 230));
  return insts.map((inst, idx) => {
    const p = inst.p;
    const mem = style === "extreme" && idx !== WIDE ? signedMemories(rng, p) : randomMemories(rng, p, style === "extreme" ? "extreme" : "random");
    let layers: LeLayer[];
    if (idx === PACK) layers = packedLayers(rng, style);
    else if (idx === DENS && style === "perf") {
      // the density pair: same weights, 64 rows at 20 % and at 40 %, out_ready held 1
      const o = { fanin: 64, out: 64, wbase: 0, bbase: 0, rows: 64, rowStyle: "bernoulli" as RowStyle, gapProb: 0 };
      layers = [makeLayer(rng, p, { ...o, density: 0.2 }), makeLayer(rng, p, { ...o, density: 0.4 })];
    } else if (style === "edges") {
      // all-zero rows, all-one rows, fan-in 1 and full fan-in, full and single tile
      const full = { fanin: p.inMax, out: Math.min(p.tilesMax, Math.floor(p.wDepth / p.inMax), p.bDepth) * p.lanes, wbase: 0, bbase: 0, density: 0.5, gapProb };
      const one = { fanin: 1, out: 1, wbase: p.wDepth - 1, bbase: p.bDepth - 1, density: 0.5, gapProb };
      layers = [
        makeLayer(rng, p, { ...full, rows: p.group + 1, rowStyle: "zeros" }),
        makeLayer(rng, p, { ...full, rows: 2 * p.group, rowStyle: "ones" }),
        makeLayer(rng, p, { ...one, rows: p.group + 2 }),
        makeLayer(rng, p, { ...full, rows: 1, rowStyle: "ones" }),
      ];
    } else if (style === "extreme") {
      // one dense layer in each half of signedMemories(): every lane saturates, high or low
      const hw = Math.floor(p.wDepth / 2);
      const hb = Math.floor(p.bDepth / 2);
      layers = [0, 1].map((h) => {
        const fanin = rng.int(Math.ceil(p.inMax / 2), Math.min(p.inMax, hw));
        const tiles = Math.min(p.tilesMax, Math.floor(hw / fanin), hb);
        const rows = rng.int(1, Math.floor(inst.maxRows / 3));
        return makeLayer(rng, p, { fanin, out: tiles * p.lanes, wbase: h * hw, bbase: h * hb, rows, density: 0.85, gapProb });
      });
    } else {
      layers = [...Array(rng.int(1, 3))].map(() => makeLayer(rng, p, randomLayerOpts(rng, p, rng.int(1, Math.floor(inst.maxRows / 3)), gapProb)));
    }
    // weight reads granted at once except in the random styles (a late weight buffer)
    const gntProb = style === "random" ? rng.int(100, 230) : 256;
    return { ...mem, layers, readyProb: ready(), gntProb };
  });
}

const seeds: [number, Style][] = [
  [1, "perf"],
  [2, "random"],
  [3, "extreme"],
  [4, "edges"],
  [5, "random"],
];

function cycleLines(res: SimResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of res.lines) {
    const x = /^CYCLES (\d+) (\S+) (\d+)$/.exec(l);
    if (x) m.set(`${x[2]}/${x[3]}`, Number(x[1]));
  }
  return m;
}

/** "CLASS <label> <layer> c0 .. c7" -> label/layer -> class -> cycles */
function classLines(res: SimResult): Map<string, Record<PerfClass, number>> {
  const m = new Map<string, Record<PerfClass, number>>();
  for (const l of res.lines) {
    const x = /^CLASS (\S+) (\d+) ((?:\d+ ?){8})$/.exec(l);
    if (!x) continue;
    const v = x[3].trim().split(" ").map(Number);
    m.set(`${x[1]}/${x[2]}`, Object.fromEntries(PERF_CLASSES.map((c, i) => [c, v[i]])) as Record<PerfClass, number>);
  }
  return m;
}

beforeAll(() => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
});

describe("linearEngine model", () => {
  it("the golden function is the SPEC 1.2 layer", () => {
    expect(linear([1, 0, 1], [[100, 5, 100], [-100, 7, -100]], [32700, -32700], 16)).toEqual([32767, -32768]);
    expect(linear([1, 0, 1], [[100, 5, 100], [-100, 7, -100]], [-32700, 32700], 16)).toEqual([-32500, 32500]);
  });
  it("cycle model: per group n + tiles (2 + n + K), plus the fixed overhead", () => {
    expect(linearCycles([3, 0, 2], 2, 2)).toBe(LINEAR_FIXED_OVERHEAD + (2 + 2 * (2 + 2 + 3)) + (1 + 2 * (2 + 1 + 2)));
    expect(() => linearEngineParams(r, "x", { inMax: 8, tilesMax: 1, tagBits: 1, wDepth: 4, bDepth: 1 })).toThrow(/wDepth/);
  });
  it("layerMemoryImage is the layout the engine reads (cfg_wbase + j*fanin + c, cfg_bbase + j)", () => {
    const p = insts[PACK].p;
    const rng = new Prng(7);
    const weight = [...Array(5)].map(() => [...Array(10)].map(() => rng.int(-128, 127)));
    const bias = [...Array(5)].map(() => rng.int(-32768, 32767));
    const img = layerMemoryImage(weight, bias, p.lanes);
    expect(img.wWords.length).toBe(20);
    const wmem = [...Array(p.wDepth)].map(() => Array(p.lanes).fill(99));
    const bmem = [...Array(p.bDepth)].map(() => Array(p.lanes).fill(99));
    img.wWords.forEach((w, i) => (wmem[72 + i] = w));
    img.bWords.forEach((b, i) => (bmem[3 + i] = b));
    const L = { fanin: 10, out: 5, wbase: 72, bbase: 3, rows: [], tags: [], idle: 0, gaps: [] };
    expect(layerMatrices(p, { wmem, bmem, layers: [], readyProb: 256 }, L)).toEqual({ weight, bias });
  });
});

describe("linearEngine RTL", () => {
  it("lints clean with verilator -Wall", async () => {
    for (const i of insts) {
      const res = await verilatorLint(rtlOf(i), i.p.module);
      expect(res.warnings, res.output).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    for (const i of [insts[TINY], insts[P1G1], insts[PACK], insts[WIDE]]) {
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
        it(`matches the golden model bit for bit (seed ${seed}, ${style})`, async () => {
          const dir = path.join(work, `data_${sim}_${seed}`);
          const stats = writeLeStimulus(dir, insts, makeRuns(seed, style), seed);
          if (style === "extreme")
            for (const i of [DENS, TINY, P1G1, PACK]) {
              const s = stats[i].reduce((a, b) => ({ hi: a.hi + b.satHi, lo: a.lo + b.satLo }), { hi: 0, lo: 0 });
              expect(s.hi, insts[i].label).toBeGreaterThan(0);
              expect(s.lo, insts[i].label).toBeGreaterThan(0);
            }
          const res = await runSimExpectPass(built, [`+data=${dir}`], seed);
          const cyc = cycleLines(res);
          const cls = classLines(res);
          stats.forEach((ls, i) => ls.forEach((_, k) => expect(cyc.has(`${insts[i].label}/${k}`)).toBe(true)));
          // perf_class: one class per cycle; collect/work/fill/drain/idle as modelled, and the
          // stall classes are exactly the cycles beyond the model
          let late = 0;
          stats.forEach((ls, i) =>
            ls.forEach((st, k) => {
              const key = `${insts[i].label}/${k}`;
              const c = cls.get(key)!;
              expect(c, key).toBeTruthy();
              expect(PERF_CLASSES.reduce((a, x) => a + c[x], 0), key).toBe(cyc.get(key));
              expect({ collect: c.collect, work: c.work, fill: c.fill, drain: c.drain, idle: c.idle }, key).toEqual(st.classModel);
              expect(c.starve + c.waitW + c.stall, key).toBe(cyc.get(key)! - st.modelCycles);
              if (style === "perf") expect([c.starve, c.waitW, c.stall], key).toEqual([0, 0, 0]);
              late += c.waitW;
            }),
          );
          if (style === "random") expect(late, "w_gnt = 0 delays the accumulation").toBeGreaterThan(0);
          else expect(late).toBe(0);
          if (style !== "perf") return;
          // cycles are deterministic with out_ready = 1 and no row gaps: the model is exact
          stats.forEach((ls, i) => ls.forEach((st, k) => expect(cyc.get(`${insts[i].label}/${k}`), `${insts[i].label} layer ${k}`).toBe(st.modelCycles)));
          const [d20, d40] = stats[DENS];
          const c20 = cyc.get("dens/0")!;
          const c40 = cyc.get("dens/1")!;
          expect(d20.inputSpikes / (64 * 64)).toBeGreaterThan(0.17);
          expect(d20.inputSpikes / (64 * 64)).toBeLessThan(0.23);
          expect(c20).toBeLessThanOrEqual(linearCycleBound(d20.synops, 16));
          expect(c40 / c20).toBeGreaterThanOrEqual(1.6);
          expect(c40 / c20).toBeLessThanOrEqual(2.4);
          console.log(
            `[${sim}] density ${(d20.inputSpikes / 4096).toFixed(3)}: ${c20} cycles (synops/P ${Math.ceil(d20.synops / 16)}, bound ${linearCycleBound(d20.synops, 16)}); ` +
              `density ${(d40.inputSpikes / 4096).toFixed(3)}: ${c40} cycles (synops/P ${Math.ceil(d40.synops / 16)}); ratio ${(c40 / c20).toFixed(3)}`,
          );
        });
      }
      it("fails loudly when one expected value is wrong", async () => {
        const dir = path.join(work, `data_${sim}_broken`);
        writeLeStimulus(dir, insts, makeRuns(21, "random"), 21);
        const f = path.join(dir, "le0.exp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[2] = (BigInt("0x" + lines[2]) ^ 1n).toString(16); // lane 0 (always a real output), bit 0
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`], 21);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH le_linearEngine_dens #2/);
      });
    });
  }
});
