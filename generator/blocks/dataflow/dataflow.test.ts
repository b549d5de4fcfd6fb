/**
 * The dataflow unit with its synaptic pool, end to end: models (the reference vectors p1/p2/p3
 * and random models) -> weight/bias images, U0, junk-filled buffers -> RTL on Icarus and
 * Verilator (one testbench build per simulator holding every config, several data sets per
 * build); per block S0, Q, K, V, O, S1, U1, the hidden rows of every expert, U1 + sum y_e and
 * U_b compared with the golden trace, U_L and the perf counters at the end; busy cycles per
 * (block, phase) and the cycles of every perf class of the pool and the router against the exact
 * cycle model (and across simulators); lint, synthesis (no latch), and a check that the
 * testbench fails on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolve, resolveInput, type Resolved } from "../../config/resolve.ts";
import { loadConfig, parseConfig } from "../../config/load.ts";
import type { UserConfigInput } from "../../config/schema.ts";
import type { Model } from "../../model/golden.ts";
import { runGolden } from "../../model/golden.ts";
import { loadInput, loadModelDir, mulberry32, randomModel } from "../../model/tensors.ts";
import { readNpy } from "../../util/npy.ts";
import { maxS, minS } from "../../util/bits.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built, type Sim, type SimResult } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { REPO_ROOT } from "../../core/paths.ts";
import { PERF_CLASSES } from "../linearEngine/linearEngine.ts";
import { renderSynPool, synPoolParams } from "../synPool/synPool.ts";
import { DATAFLOW_PHASES, dataflowImages, dataflowParams, renderDataflow } from "./dataflow.ts";
import { dataflowCycles, dataflowCyclesStreamed, dataflowWork, engineRun, type DataflowCycles } from "./cycles.ts";
import { dataflowTbShape, renderDataflowTb, writeDataflowCase, type DataflowTbShape } from "./testbench.ts";

type T3 = number[][][];
const VECTORS = path.join(REPO_ROOT, "test", "fixtures", "vectors");
const vecCfg = (p: string): UserConfigInput => JSON.parse(fs.readFileSync(path.join(VECTORS, p, "config.json"), "utf8"));

function loadVector(r: Resolved, dir: string): { model: Model; U0: T3; trace: Record<string, T3> } {
  const model = loadModelDir(r, path.join(dir, "weights"));
  const U0 = loadInput(r, path.join(dir, "input.npy"));
  const trace: Record<string, T3> = {};
  for (const f of fs.readdirSync(path.join(dir, "trace")).filter((x) => x.endsWith(".npy"))) {
    const a = readNpy(path.join(dir, "trace", f));
    const [T, N, C] = a.shape;
    trace[f.replace(/\.npy$/, "")] = [...Array(T)].map((_, t) => [...Array(N)].map((_, n) => a.data.slice((t * N + n) * C, (t * N + n + 1) * C)));
  }
  return { model, U0, trace };
}

interface TestCfg {
  shape: DataflowTbShape;
  vector?: string;
}

const cfgs: TestCfg[] = [
  // the reference vectors with the default hardware (the pool as wide as the widest layer: one tile)
  { shape: dataflowTbShape(resolveInput(vecCfg("p1"))), vector: "p1" },
  { shape: dataflowTbShape(resolveInput(vecCfg("p2"))), vector: "p2" }, // sdsa, per-token, L = 2
  { shape: dataflowTbShape(resolveInput(vecCfg("p3"))), vector: "p3" }, // k = E, accBits 12 / residBits 10
  // p3's model on a small pool: P = 3, 6 tiles (the last 1 lane), G = 3, 4 heads on 3 cores (2 passes), router 3 lanes
  { shape: dataflowTbShape(resolveInput({ ...vecCfg("p3"), name: "vec3h", hardware: { synapticLanes: 6, tokenGroup: 3, attnCores: 3 } })), vector: "p3" },
  // the tiny preset (L = 2, ssa, 2 tiles, 4 pool + 4 router lanes)
  { shape: dataflowTbShape(resolve(loadConfig("tiny"))) },
  // T = 1, sdsa, per-token, N = 3 (a hole row), partial tiles of D and F, router 2 lanes for 3 experts
  {
    shape: dataflowTbShape(
      resolveInput({
        name: "da",
        model: { timesteps: 1, tokens: 3, dim: 6, heads: 3, blocks: 1, experts: 3, topK: 1, expertHidden: 5, attention: "sdsa", routing: "per-token" },
        hardware: { synapticLanes: 5, tokenGroup: 2 },
      }),
    ),
  },
  // N = 1, D = F = 1, one expert, G = 1, P = R = 1
  {
    shape: dataflowTbShape(
      resolveInput({
        name: "db",
        model: { timesteps: 3, tokens: 1, dim: 1, heads: 1, blocks: 2, experts: 1, topK: 1, expertHidden: 1, lif: { attn: { threshold: 1, tauShift: 0 } } },
        hardware: { synapticLanes: 2, tokenGroup: 1 },
      }),
    ),
  },
  // E = 7, k = 3, router 2 lanes (4 tiles), G = 1, one core for 2 heads, soft resets, saturating widths
  {
    shape: dataflowTbShape(
      resolveInput({
        name: "dc",
        model: {
          timesteps: 2,
          tokens: 3,
          dim: 6,
          heads: 2,
          blocks: 1,
          experts: 7,
          topK: 3,
          expertHidden: 4,
          accBits: 7,
          residBits: 8,
          lif: { shortcut: { threshold: 20, reset: "subtract", fire: ">" }, qkv: { threshold: 10, tauShift: 2, decayInput: false }, attn: { threshold: 1 } },
        },
        hardware: { synapticLanes: 5, tokenGroup: 1, attnCores: 1 },
      }),
    ),
  },
  // attention long against o (8 heads on 1 core: 8 passes, N = 8), per-token, L = 2, G = 3: o waits for attention
  {
    shape: dataflowTbShape(
      resolveInput({
        name: "dd",
        model: { timesteps: 3, tokens: 8, dim: 8, heads: 8, blocks: 2, experts: 4, topK: 2, expertHidden: 6, routing: "per-token", attnShift: 1, lif: { attn: { threshold: 1, reset: "subtract" } } },
        hardware: { synapticLanes: 8, tokenGroup: 3, attnCores: 1 },
      }),
    ),
  },
];
const shapes = cfgs.map((c) => c.shape);
const byName = (n: string) => cfgs.find((c) => c.shape.r.name === n)!;

type DataSet = "ref" | "dense" | "zeros" | "extreme" | "skew";
const dataSets: [number, DataSet][] = [
  [1, "ref"],
  [2, "dense"],
  [3, "zeros"],
  [4, "extreme"],
  [5, "skew"],
];

/** Weights pushed towards one sign per output channel, large biases, U over the full range: sums saturate. */
function extremeModel(r: Resolved, seed: number): { model: Model; input: T3 } {
  const { model } = randomModel(r, seed, 0.3);
  const rnd = mulberry32(seed ^ 0x5a5a);
  const ri = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const wMax = maxS(r.weightBits);
  const bMax = maxS(r.biasBits);
  const push = (lw: { weight: number[][]; bias: number[] }) =>
    lw.weight.forEach((row, o) => {
      const s = rnd() < 0.5 ? -1 : 1;
      for (let c = 0; c < row.length; c++) row[c] = rnd() < 0.8 ? s * ri(wMax >> 1, wMax) : ri(-wMax, wMax);
      lw.bias[o] = s * ri(Math.max(bMax >> 1, bMax - ((wMax * row.length) >> 2)), bMax);
    });
  for (const bw of model.blocks) {
    for (const l of ["q", "k", "v", "o"] as const) push(bw[l]);
    for (const ew of bw.experts) push(ew.fc2);
  }
  const input = [...Array(r.T)].map(() => [...Array(r.N)].map(() => [...Array(r.D)].map(() => ri(minS(r.residBits), maxS(r.residBits)))));
  return { model, input };
}

function makeCase(c: TestCfg, seed: number, ds: DataSet): { model: Model; U0: T3; trace?: Record<string, T3> } {
  const r = c.shape.r;
  if (ds === "ref" && c.vector) return loadVector(r, path.join(VECTORS, c.vector));
  const s = seed * 1000 + shapes.indexOf(c.shape);
  if (ds === "extreme") {
    const { model, input } = extremeModel(r, s);
    return { model, U0: input };
  }
  const { model, input } = randomModel(r, s, ds === "dense" ? 0.5 : 0.3);
  // a router that sends every token to expert 0 (and its other k-1 choices elsewhere)
  if (ds === "skew") for (const b of model.blocks) b.router.bias[0] = maxS(r.biasBits);
  const U0 = ds === "zeros" ? input.map((Ut) => Ut.map((u) => u.map(() => 0))) : input;
  return { model, U0 };
}

interface RunInfo {
  model: DataflowCycles;
  accSat: number;
  residSat: number;
  routedPerExpert: number[];
  spikes: number;
}

function writeDataSet(dir: string, seed: number, ds: DataSet): Map<string, RunInfo> {
  const out = new Map<string, RunInfo>();
  for (const c of cfgs) {
    const k = makeCase(c, seed, ds);
    const info = writeDataflowCase(dir, { shape: c.shape, ...k }, seed);
    const model = dataflowCycles(c.shape.p, dataflowWork(c.shape.r, k.model, info.trace));
    const routedPerExpert = info.stats.perLayer.reduce((a, s) => a.map((x, e) => x + s.routedPerExpert[e]), new Array<number>(c.shape.r.E).fill(0));
    out.set(c.shape.prefix, { model, accSat: info.accSat, residSat: info.residSat, routedPerExpert, spikes: info.stats.spikes });
  }
  return out;
}

/** "CYC <cfg> <block> <phase> <n>", "CLASS <cfg> <engine> c0..c7", "TOTAL <cfg> <n>" -> key -> n */
function counterLines(res: SimResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of res.lines) {
    let x = /^CYC (\S+) (\d+) (\d+) (\d+)$/.exec(l);
    if (x) m.set(`${x[1]}/${x[2]}/${DATAFLOW_PHASES[Number(x[3]) - 1]}`, Number(x[4]));
    x = /^CLASS (\S+) (pool|router) ((?:\d+ ?){8})$/.exec(l);
    if (x) x[3].trim().split(" ").forEach((v, i) => m.set(`${x![1]}/${x![2]}/${PERF_CLASSES[i]}`, Number(v)));
    x = /^TOTAL (\S+) (\d+)$/.exec(l);
    if (x) m.set(`${x[1]}/total`, Number(x[2]));
  }
  return m;
}

const tbModule = "dataflow_tb";
const files = renderDataflowTb(tbModule, shapes);
const work = buildDir("test", "dataflow");
const paths = files.map((f) => path.join(work, f.path));
const rtlOf = (sh: DataflowTbShape) => [...renderDataflow(sh.r, sh.p), ...renderSynPool(sh.r, sh.pool)].map((f) => path.join(work, f.path));
const built = new Map<Sim, Built>();
const counters = new Map<string, Map<string, number>>();

beforeAll(async () => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
  const b = await Promise.all(SIMS.map((s) => buildSim(s, paths, tbModule, work)));
  SIMS.forEach((s, i) => built.set(s, b[i]));
});

describe("dataflow parameters, images and cycle model", () => {
  it("derives the geometry, memories and pool/router lanes for the tiny preset and cifar", () => {
    const { p } = byName("st3d_tiny").shape;
    const g = p.geo;
    expect([g.P, g.R, g.G, g.tilesD, g.tilesF, g.tilesR, g.nBits, g.tRowBits, g.rowBits, g.rows, g.uDepth]).toEqual([4, 4, 4, 2, 2, 1, 2, 1, 3, 8, 16]);
    expect(p.memories.map((m) => [m.prefix, m.mem.depth, m.mem.width, m.access, m.mem.ports])).toEqual([
      ["sbuf", 8, 8, "rw", "1r1w"],
      ["qbuf", 8, 8, "rw", "1rw"],
      ["kbuf", 8, 8, "rw", "1rw"],
      ["vbuf", 8, 8, "rw", "1r1w"],
      ["sbufm", 8, 8, "rw", "1r1w"],
      ["hbuf", 8, 8, "rw", "1rw"],
      ["mmem", 16, 4 * 18, "rw", "1r1w"],
      ["lifsc", 8, 4 * 16, "rw", "1r1w"],
      ["lifqkv", 8, 4 * 16, "rw", "1r1w"],
      ["lifh", 8, 4 * 16, "rw", "1r1w"],
      ["la0", 4, 4 * 16, "rw", "1r1w"],
      ["la1", 4, 4 * 16, "rw", "1r1w"],
      ["wr", 2 * 8, 4 * 8, "read", "1rw"],
      ["br", 2, 4 * 16, "read", "1rw"],
    ]);
    // the port list is the module header, in order
    const v = renderDataflow(byName("st3d_tiny").shape.r, p)[0].content;
    const at = v.indexOf(`module ${p.module} (`);
    const header = v.slice(at, v.indexOf(");", at));
    expect([...header.matchAll(/(input|output)\s+wire (?:\[(\d+):0\] )?(\w+)/g)].map((m) => `${m[1]} ${m[3]} ${m[2] === undefined ? 1 : Number(m[2]) + 1}`)).toEqual(
      p.ports.map((q) => `${q.dir} ${q.name} ${q.width}`),
    );
    const c = dataflowParams(resolve(loadConfig("cifar")));
    expect([c.geo.P, c.geo.R, c.geo.tilesD, c.geo.tilesF, c.geo.tilesR]).toEqual([77, 4, 5, 5, 1]);
    const pool = synPoolParams(resolve(loadConfig("cifar")));
    expect(pool.engine.lanes).toBe(77);
    // one weight bank per block (4 x 23040 words of 77 lanes), one bias memory
    expect(pool.memories.map((m) => [m.prefix, m.mem.depth, m.mem.width])).toEqual([
      ["wp0", 23040, 616],
      ["wp1", 23040, 616],
      ["wp2", 23040, 616],
      ["wp3", 23040, 616],
      ["bp", 240, 77 * 16],
    ]);
  });

  it("lays out the pool and router weights as documented", () => {
    const { r, p } = byName("vec3h").shape; // D = F = 16 on P = 3: tiles of 3 x 5 and 1
    const g = p.geo;
    const { model } = randomModel(r, 7);
    const img = dataflowImages(r, g, model);
    const lane = (w: bigint, i: number, bits: number) => {
      let x = Number((w >> BigInt(i * bits)) & ((1n << BigInt(bits)) - 1n));
      if (x >= 2 ** (bits - 1)) x -= 2 ** bits;
      return x;
    };
    const bw = model.blocks[0];
    for (let j = 0; j < g.tilesD; j++)
      for (let i = 0; i < g.P; i++) {
        const o = j * g.P + i;
        for (const [l, name] of (["q", "k", "v", "o"] as const).entries()) {
          expect(lane(img.bp[l * g.layerB + j], i, r.biasBits)).toBe(o < r.D ? bw[name].bias[o] : 0);
          for (const c of [0, 7, r.D - 1]) expect(lane(img.wp[0][l * g.layerW + j * r.D + c], i, r.weightBits)).toBe(o < r.D ? bw[name].weight[o][c] : 0);
        }
        for (let e = 0; e < r.E; e++) {
          const base = 4 * g.layerW + e * g.perExpW;
          for (const c of [0, r.D - 1]) {
            expect(lane(img.wp[0][base + j * r.D + c], i, r.weightBits)).toBe(o < r.F ? bw.experts[e].fc1.weight[o][c] : 0);
            expect(lane(img.wp[0][base + g.tilesF * r.D + j * r.F + c], i, r.weightBits)).toBe(o < r.D ? bw.experts[e].fc2.weight[o][c] : 0);
          }
          expect(lane(img.bp[4 * g.layerB + e * g.perExpB + g.tilesF + j], i, r.biasBits)).toBe(o < r.D ? bw.experts[e].fc2.bias[o] : 0);
        }
      }
    // router: word (b*tilesR + j)*D + c, lane l = weight[j*R + l][c] (dc: E = 7 on R = 2, 4 tiles, the last with one lane)
    const dc = byName("dc").shape;
    const m2 = randomModel(dc.r, 8).model;
    const i2 = dataflowImages(dc.r, dc.p.geo, m2);
    expect([dc.p.geo.R, dc.p.geo.tilesR]).toEqual([2, 4]);
    for (let e = 0; e < dc.r.E; e++) {
      const j = Math.floor(e / 2);
      expect(lane(i2.br[j], e % 2, dc.r.biasBits)).toBe(m2.blocks[0].router.bias[e]);
      for (const c of [0, 3]) expect(lane(i2.wr[j * dc.r.D + c], e % 2, dc.r.weightBits)).toBe(m2.blocks[0].router.weight[e][c]);
    }
    expect(lane(i2.wr[3 * dc.r.D], 1, dc.r.weightBits)).toBe(0);
  });

  it("engine model: linearCycles when rows are always there, starve cycles when a row comes late", () => {
    const rows = [3, 0, 8, 1, 2, 2, 0, 5].map((k) => ({ spikes: k, gate: -Infinity }));
    const a = engineRun(10, 10, rows, 2, 4);
    // 2 + per group n + tiles (2 + n + K)
    expect(a.done - 10).toBe(2 + (4 + 2 * (2 + 4 + 12)) + (4 + 2 * (2 + 4 + 9)));
    expect(a.classes).toEqual({ idle: 2, collect: 8, starve: 0, work: 42, fill: 8, waitW: 0, drain: 16, stall: 0 });
    const late = engineRun(10, 10, rows.map((x, i) => ({ ...x, gate: i === 5 ? 200 : -Infinity })), 2, 4);
    // group 1 collects from cycle 10 + 1 + 4 + 2 * 18 = 51; row 5 (its second) is offered at 200, taken at 201
    expect(late.classes.starve).toBe(201 - 51 - 1);
    expect(late.done - a.done).toBe(late.classes.starve);
    expect({ ...late.classes, starve: 0 }).toEqual(a.classes);
  });

  it("the golden model reproduces the reference vectors' traces", () => {
    for (const v of ["p1", "p2", "p3"]) {
      const c = cfgs.find((x) => x.vector === v)!;
      const vec = loadVector(c.shape.r, path.join(VECTORS, v));
      const g = runGolden(c.shape.r, vec.model, vec.U0);
      for (let b = 0; b < c.shape.r.L; b++)
        for (const s of ["s0", "q", "k", "v", "o", "u1", "s1", "sel", "u2"]) expect(g.trace[`blocks.${b}.${s}`], `${v} ${b} ${s}`).toEqual(vec.trace[`blocks.${b}.${s}`]);
    }
  });
});

describe("dataflow RTL", () => {
  it("lints clean with verilator -Wall (dataflow + every submodule, the pool)", async () => {
    for (const sh of shapes)
      for (const top of [sh.p.module, sh.pool.module]) {
        const res = await verilatorLint(rtlOf(sh), top);
        expect(res.warnings, `${sh.r.name} ${top}\n${res.output}`).toEqual([]);
      }
    // lint only: the cifar preset (77 pool lanes)
    const r = resolve(loadConfig("cifar"));
    const dir = buildDir("test", "dataflow", "lint", r.name);
    const rtl = [...renderDataflow(r, dataflowParams(r)), ...renderSynPool(r, synPoolParams(r))].map((f) => {
      fs.writeFileSync(path.join(dir, f.path), f.content);
      return path.join(dir, f.path);
    });
    for (const top of [dataflowParams(r).module, synPoolParams(r).module]) {
      const res = await verilatorLint(rtl, top);
      expect(res.warnings, `${r.name} ${top}\n${res.output}`).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    for (const sh of [byName("da").shape]) {
      // flattened: Yosys 0.23 "stat -json" of a multi-level design is not valid JSON
      const res = await yosysSynth(rtlOf(sh), sh.p.module, path.join(work, "synth", sh.p.module), { flatten: true });
      expect(res.latches).toBe(0);
      expect(res.totalCells).toBeGreaterThan(0);
    }
  });

  for (const sim of SIMS) {
    describe(sim, () => {
      for (const [seed, ds] of dataSets) {
        it(`every buffer of every block, U_L and the counters bit exact, cycles as modelled (data set ${seed}: ${ds})`, async () => {
          const dir = path.join(work, `data_${sim}_${seed}`);
          const infos = writeDataSet(dir, seed, ds);
          const res = await runSimExpectPass(built.get(sim)!, [`+data=${dir}`], seed);
          const got = counterLines(res);
          counters.set(`${sim}/${seed}`, got);
          for (const sh of shapes) {
            const m = infos.get(sh.prefix)!.model;
            m.perBlock.forEach((ph, b) => {
              for (const name of DATAFLOW_PHASES) expect(got.get(`${sh.prefix}/${b}/${name}`), `${sh.prefix} block ${b} ${name}`).toBe(ph[name]);
            });
            expect(got.get(`${sh.prefix}/total`), `${sh.prefix} total`).toBe(m.total);
            for (const c of PERF_CLASSES) {
              expect(got.get(`${sh.prefix}/pool/${c}`), `${sh.prefix} pool ${c}`).toBe(m.pool[c]);
              expect(got.get(`${sh.prefix}/router/${c}`), `${sh.prefix} router ${c}`).toBe(m.router[c]);
            }
          }
          // the data sets exercise what they claim
          const all = [...infos.values()];
          if (ds === "extreme") {
            expect(all.reduce((a, i) => a + i.accSat, 0)).toBeGreaterThan(0);
            expect(all.reduce((a, i) => a + i.residSat, 0)).toBeGreaterThan(0);
          }
          if (ds === "skew")
            for (const sh of shapes) {
              const i = infos.get(sh.prefix)!;
              expect(i.routedPerExpert[0], `${sh.prefix}: expert 0 takes every row`).toBe(sh.r.T * sh.r.N * sh.r.L);
            }
          if (ds === "dense") expect(all.filter((i) => i.model.attention.exposed > 0).length, "o waits for attention somewhere").toBeGreaterThan(0);
          if (ds !== "zeros") expect(all.every((i) => i.spikes > 0)).toBe(true);
          if (seed === 1 && sim === SIMS[0])
            for (const sh of shapes) {
              const m = infos.get(sh.prefix)!.model;
              console.log(`[dataflow] ${sh.prefix}: ${m.total} cycles; pool ${JSON.stringify(m.pool)}; attention exposed ${m.attention.exposed}`);
            }
        });
      }

      it("fails loudly when one expected value is wrong", async () => {
        const dir = path.join(work, `data_${sim}_broken`);
        writeDataSet(dir, 21, "dense");
        const f = path.join(dir, "dd.b1.u2.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[0] = (BigInt("0x" + lines[0]) ^ 1n).toString(16).padStart(lines[0].length, "0"); // row {0, 0}, tile 0, lane 0
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built.get(sim)!, [`+data=${dir}`], 21);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH dd_dataflow block 1 u2 word 0:/);
      });
    });
  }

  it("counters are the same on both simulators", () => {
    for (const [seed] of dataSets) {
      const a = counters.get(`${SIMS[0]}/${seed}`);
      const b = counters.get(`${SIMS[1]}/${seed}`);
      expect(a && b, `data set ${seed} ran on both`).toBeTruthy();
      expect([...a!.entries()].sort()).toEqual([...b!.entries()].sort());
    }
  });
});

// The streamed-weights estimate of the cycle model (dataflowCyclesStreamed, no simulation):
// it never beats the exact on-chip model, a slower or later memory never makes it faster, the
// layers are fetched in the pool's order of use through two halves (a descriptor waits for the
// layer before the previous one), every used layer once, and the waits it adds are its waitW.
// The estimate against the RTL's measured cycles: test/weightsStreamRuns.ts and scripts/bench-stream.ts.
describe("dataflowCyclesStreamed (estimate)", () => {
  const u = loadConfig("tiny");
  const st = resolve(parseConfig({ ...u, hardware: { ...u.hardware, weightsOnChip: false } }, "tiny streamed"));
  const on = resolve(u);
  const { model, input } = randomModel(on, 5, 0.2);
  const work = dataflowWork(on, model, runGolden(on, model, input).trace);
  const exact = dataflowCycles(dataflowParams(on), work);
  const w = st.hw.weights;
  const est = (latency: number, bytesPerCycle: number) => dataflowCyclesStreamed(dataflowParams(st), work, { latency, bytesPerCycle, beatBits: w.beatBits, beatsPerWord: w.beatsPerWord });

  it("an engine whose words have all arrived runs as on chip", () => {
    const rows = [3, 0, 5, 2, 7, 1].map((k) => ({ spikes: k, gate: -Infinity }));
    expect(engineRun(10, 10, rows, 2, 4, { fanin: 8, arrival: () => -Infinity })).toEqual(engineRun(10, 10, rows, 2, 4));
    const late = engineRun(10, 10, rows, 2, 4, { fanin: 8, arrival: (a) => 100 + a });
    expect(late.classes.waitW).toBeGreaterThan(0);
    expect(late.done - engineRun(10, 10, rows, 2, 4).done).toBe(late.classes.waitW);
  });

  it("never below the exact on-chip model; slower or later memory never faster; waits = waitW", () => {
    expect(exact.stream).toBeUndefined();
    let prev = 0;
    for (const [lat, bw] of [[0, 64], [0, 4], [100, 4], [100, 1], [300, 0.5]] as const) {
      const e = est(lat, bw);
      expect(e.total).toBeGreaterThanOrEqual(exact.total);
      expect(e.total).toBeGreaterThanOrEqual(prev);
      prev = e.total;
      expect(e.pool.waitW).toBe(e.stream!.reduce((a, l) => a + l.waitW, 0));
      expect(e.pool.work).toBe(exact.pool.work);
    }
    expect(est(300, 0.5).pool.waitW).toBeGreaterThan(0);
  });

  it("fetches every used layer once, in order of use, at most one layer ahead", () => {
    const e = est(100, 16);
    const layers = e.stream!;
    const used = work.reduce((a, b) => a + 4 + 2 * b.experts.length, 0);
    expect(layers).toHaveLength(used);
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      expect(l.dataStart).toBeGreaterThanOrEqual(l.take + 1 + 100);
      expect(l.dataEnd).toBeGreaterThanOrEqual(l.dataStart + l.words * w.beatsPerWord - 1);
      if (i > 0) expect(l.dataStart).toBeGreaterThan(layers[i - 1].dataEnd);
      if (i > 1) expect(l.take).toBeGreaterThan(layers[i - 2].useEnd);
    }
    expect(e.total).toBeGreaterThan(layers[layers.length - 1].dataEnd);
  });
});
