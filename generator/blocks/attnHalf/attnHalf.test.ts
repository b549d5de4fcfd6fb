/**
 * attnHalf end to end: models (the reference vectors p1/p2/p3 and random models) -> weight/bias
 * images, U, junk-filled buffers -> RTL on Icarus and Verilator (one testbench build per
 * simulator holding every config, several data sets per build); every umem word (U1), every
 * S0/Q/K/V/O row and the perf counters compared with the golden trace; cycles per phase against
 * the cycle model (and across simulators); lint, synthesis (no latch), and a check that the
 * testbench fails on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolve, resolveInput, type Resolved } from "../../config/resolve.ts";
import { loadConfig } from "../../config/load.ts";
import type { UserConfigInput } from "../../config/schema.ts";
import { runGolden, type Model } from "../../model/golden.ts";
import { loadInput, loadModelDir, mulberry32, randomModel } from "../../model/tensors.ts";
import { readNpy } from "../../util/npy.ts";
import { maxS, minS } from "../../util/bits.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built, type Sim, type SimResult } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import {
  ATTN_PHASE_NAMES,
  attnHalfCycles,
  attnHalfImage,
  attnHalfParams,
  attnHalfPorts,
  attnHalfUmemDecode,
  attnHalfUmemImage,
  renderAttnHalf,
} from "./attnHalf.ts";
import { attnHalfTbShape, renderAttnHalfTb, writeAttnHalfCase, type AttnHalfCase, type AttnHalfRunInfo, type AttnHalfTbShape } from "./testbench.ts";
import { REPO_ROOT } from "../../core/paths.ts";

type T3 = number[][][];
const VECTORS = path.join(REPO_ROOT, "test", "fixtures", "vectors");

interface Vector {
  model: Model;
  U0: T3;
  trace: Record<string, T3>;
}

function loadVector(r: Resolved, dir: string): Vector {
  const model = loadModelDir(r, path.join(dir, "weights"));
  const U0 = loadInput(r, path.join(dir, "input.npy"));
  const trace: Record<string, T3> = {};
  for (const f of fs.readdirSync(path.join(dir, "trace")).filter((x) => x.endsWith(".npy"))) {
    const a = readNpy(path.join(dir, "trace", f));
    const [T, N, C] = a.shape;
    const t3: T3 = [];
    for (let t = 0; t < T; t++) {
      const rows: number[][] = [];
      for (let n = 0; n < N; n++) rows.push(a.data.slice((t * N + n) * C, (t * N + n + 1) * C));
      t3.push(rows);
    }
    trace[f.replace(/\.npy$/, "")] = t3;
  }
  return { model, U0, trace };
}

const vecCfg = (p: string): UserConfigInput => JSON.parse(fs.readFileSync(path.join(VECTORS, p, "config.json"), "utf8"));

interface TestCfg {
  shape: AttnHalfTbShape;
  /** reference vector folder (the "ref" data set uses its model, input and trace) */
  vector?: string;
}

const cfgs: TestCfg[] = [
  // the reference vectors with their own (default) hardware: P = D, one tile
  { shape: attnHalfTbShape(resolveInput(vecCfg("p1"))), vector: "p1" },
  { shape: attnHalfTbShape(resolveInput(vecCfg("p2"))), vector: "p2" }, // sdsa, L = 2
  { shape: attnHalfTbShape(resolveInput(vecCfg("p3"))), vector: "p3" }, // accBits 12 / residBits 10
  // p3's model on small hardware: 4 tiles (the last with 1 lane), G = 3, H = 4 on 3 cores
  {
    shape: attnHalfTbShape(resolveInput({ ...vecCfg("p3"), name: "vec3h", hardware: { linearLanes: 5, tokenGroup: 3, attnCores: 3 } })),
    vector: "p3",
  },
  // the tiny preset (L = 2, ssa, 2 tiles)
  { shape: attnHalfTbShape(resolve(loadConfig("tiny"))) },
  // N = 1, d = 1, H = 3 on 2 cores, G = 1, L = 2
  {
    shape: attnHalfTbShape(
      resolveInput({
        name: "ha",
        // LIF_attn without leak (tauShift 0): with d = 1 and N = 1, X is 0 or 1
        model: { timesteps: 3, tokens: 1, dim: 3, heads: 3, blocks: 2, lif: { attn: { threshold: 1, tauShift: 0 } } },
        hardware: { linearLanes: 2, tokenGroup: 1, attnCores: 2 },
      }),
    ),
  },
  // sdsa, N = 3 (row holes), D = 10 on P = 4 (partial tile), accBits 6 / residBits 7 saturate
  {
    shape: attnHalfTbShape(
      resolveInput({
        name: "hb",
        model: {
          timesteps: 2,
          tokens: 3,
          dim: 10,
          heads: 2,
          blocks: 1,
          attention: "sdsa",
          accBits: 6,
          residBits: 7,
          lif: { shortcut: { threshold: 20 }, qkv: { threshold: 10, tauShift: 2, decayInput: false } },
        },
        hardware: { linearLanes: 4, tokenGroup: 3, attnCores: 2 },
      }),
    ),
  },
  // ssa, N = 5, D = 12, H = 4 on 3 cores, P = 5, G = 4, L = 2, attnShift 1, soft resets
  {
    shape: attnHalfTbShape(
      resolveInput({
        name: "hc",
        model: {
          timesteps: 2,
          tokens: 5,
          dim: 12,
          heads: 4,
          blocks: 2,
          attnShift: 1,
          accBits: 10,
          lif: { attn: { threshold: 1, reset: "subtract" }, shortcut: { reset: "subtract", fire: ">" } },
        },
        hardware: { linearLanes: 5, tokenGroup: 4, attnCores: 3 },
      }),
    ),
  },
  // T = 1 (row address = n, no t field), one core for two heads
  {
    shape: attnHalfTbShape(
      resolveInput({
        name: "hd",
        model: { timesteps: 1, tokens: 4, dim: 6, heads: 2, blocks: 1, lif: { attn: { threshold: 1 } } },
        hardware: { linearLanes: 3, tokenGroup: 5, attnCores: 1 },
      }),
    ),
  },
];
const shapes = cfgs.map((c) => c.shape);
const byName = (n: string) => cfgs.find((c) => c.shape.r.name === n)!;

type DataSet = "ref" | "dense" | "zeros" | "extreme";
const dataSets: [number, DataSet][] = [
  [1, "ref"],
  [2, "dense"],
  [3, "zeros"],
  [4, "extreme"],
];

/** Weights pushed towards one sign per output channel, large biases, U over the full range: sums saturate. */
function extremeModel(r: Resolved, seed: number): { model: Model; input: T3 } {
  const { model } = randomModel(r, seed, 0.3);
  const rnd = mulberry32(seed ^ 0x5a5a);
  const ri = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const wMax = maxS(r.weightBits);
  const bMax = maxS(r.biasBits);
  for (const bw of model.blocks)
    for (const l of ["q", "k", "v", "o"] as const) {
      const lw = bw[l];
      lw.weight.forEach((row, o) => {
        const s = rnd() < 0.5 ? -1 : 1;
        for (let c = 0; c < row.length; c++) row[c] = rnd() < 0.8 ? s * ri(wMax >> 1, wMax) : ri(-wMax, wMax);
        // close to the bias limit: a few spiking inputs of the same sign saturate accBits
        lw.bias[o] = s * ri(Math.max(bMax >> 1, bMax - ((wMax * row.length) >> 2)), bMax);
      });
    }
  const input = [...Array(r.T)].map(() => [...Array(r.N)].map(() => [...Array(r.D)].map(() => ri(minS(r.residBits), maxS(r.residBits)))));
  return { model, input };
}

function makeCase(c: TestCfg, seed: number, ds: DataSet): AttnHalfCase {
  const r = c.shape.r;
  if (ds === "ref" && c.vector) {
    const v = loadVector(r, path.join(VECTORS, c.vector));
    return { shape: c.shape, model: v.model, U0: v.U0, trace: v.trace };
  }
  const s = seed * 1000 + shapes.indexOf(c.shape);
  if (ds === "extreme") {
    const { model, input } = extremeModel(r, s);
    return { shape: c.shape, model, U0: input };
  }
  const { model, input } = randomModel(r, s, ds === "dense" ? 0.5 : 0.3);
  const U0 = ds === "zeros" ? input.map((Ut) => Ut.map((u) => u.map(() => 0))) : input;
  return { shape: c.shape, model, U0 };
}

function writeDataSet(dir: string, seed: number, ds: DataSet): Map<string, AttnHalfRunInfo[]> {
  const out = new Map<string, AttnHalfRunInfo[]>();
  for (const c of cfgs) out.set(c.shape.prefix, writeAttnHalfCase(dir, makeCase(c, seed, ds), seed));
  return out;
}

/** "CYCLES_PHASE <cfg> <run> <phase> <n>" lines -> cfg/run/phase -> n (and .../total from "CYCLES"). */
function cycleLines(res: SimResult): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of res.lines) {
    let x = /^CYCLES_PHASE (\S+) (\d+) (\S+) (\d+)$/.exec(l);
    if (x) m.set(`${x[1]}/${x[2]}/${x[3]}`, Number(x[4]));
    x = /^CYCLES (\S+) (\d+) (\d+)$/.exec(l);
    if (x) m.set(`${x[1]}/${x[2]}/total`, Number(x[3]));
  }
  return m;
}

const tbModule = "attnHalf_tb";
const files = renderAttnHalfTb(tbModule, shapes);
const work = buildDir("test", "attnHalf");
const paths = files.map((f) => path.join(work, f.path));
const rtlOf = (sh: AttnHalfTbShape) => renderAttnHalf(sh.r, sh.p).map((f) => path.join(work, f.path));
const built = new Map<Sim, Built>();
const cycles = new Map<string, Map<string, number>>();

beforeAll(async () => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
  const b = await Promise.all(SIMS.map((s) => buildSim(s, paths, tbModule, work)));
  SIMS.forEach((s, i) => built.set(s, b[i]));
});

describe("attnHalf parameters, images and cycle model", () => {
  it("derives ports, memories and addressing for the tiny preset", () => {
    const { p } = byName("st3d_tiny").shape;
    expect([p.geo.lanes, p.geo.group, p.geo.tilesD, p.geo.nBits, p.geo.tAddrBits, p.geo.rowAddrBits, p.geo.rows, p.umem.addrBits, p.umem.width]).toEqual([4, 4, 2, 2, 1, 3, 8, 4, 64]);
    expect(p.memories.map((m) => [m.prefix, m.mem.module, m.mem.depth, m.mem.width, m.access, m.hostWritable])).toEqual([
      ["sbuf", "st3d_tiny_attn_sbuf", 8, 8, "rw", false],
      ["qbuf", "st3d_tiny_attn_qbuf", 8, 8, "rw", false],
      ["kbuf", "st3d_tiny_attn_kbuf", 8, 8, "rw", false],
      ["vbuf", "st3d_tiny_attn_vbuf", 8, 8, "rw", false],
      ["wa", "st3d_tiny_attn_wa", 2 * 4 * 2 * 8, 4 * 8, "read", true],
      ["ba", "st3d_tiny_attn_ba", 2 * 4 * 2, 4 * 16, "read", true],
      ["lifa", "st3d_tiny_lifArray_a_state", 4 * 2, 4 * 16, "rw", false],
      ["lifqkv", "st3d_tiny_lifArray_qkv_state", 4 * 2, 4 * 16, "rw", false],
      ["la0", "st3d_tiny_attn_la0_state", 4, 4 * 16, "rw", false],
      ["la1", "st3d_tiny_attn_la1_state", 4, 4 * 16, "rw", false],
    ]);
    const ports = attnHalfPorts(p);
    expect(ports.slice(0, 16).map((q) => `${q.dir} ${q.name} ${q.width}`)).toEqual([
      "input clk 1",
      "input rst 1",
      "input start 1",
      "input cfg_block 1",
      "output busy 1",
      "output done 1",
      "output phase 3",
      "output perf_syn 64",
      "output perf_spk 64",
      "output perf_spk_o 64",
      "output u_re 1",
      "output u_raddr 4",
      "input u_rdata 64",
      "output u_we 1",
      "output u_waddr 4",
      "output u_wdata 64",
    ]);
    // 7 pins per rw memory, 3 per read-only one
    expect(ports.length).toBe(16 + 8 * 7 + 2 * 3);
    expect(new Set(ports.map((q) => q.name)).size).toBe(ports.length);
    // the port list is the module header, in order
    const v = renderAttnHalf(byName("st3d_tiny").shape.r, p)[0].content;
    const at = v.indexOf(`module ${p.module} (`);
    const header = v.slice(at, v.indexOf(");", at));
    expect([...header.matchAll(/(input|output)\s+wire (?:\[(\d+):0\] )?(\w+)/g)].map((m) => `${m[1]} ${m[3]} ${m[2] === undefined ? 1 : Number(m[2]) + 1}`)).toEqual(
      ports.map((q) => `${q.dir} ${q.name} ${q.width}`),
    );
  });

  it("lays out weights, biases and U as documented", () => {
    const { r, p } = byName("hb").shape; // D = 10, P = 4: tiles of 4, 4, 2 lanes
    const { model } = randomModel(r, 7);
    const img = attnHalfImage(r, p, model);
    const wa = img.get(`${r.name}_attn_wa`)!;
    const ba = img.get(`${r.name}_attn_ba`)!;
    const lane = (w: bigint, i: number, bits: number) => {
      let x = Number((w >> BigInt(i * bits)) & ((1n << BigInt(bits)) - 1n));
      if (x >= 2 ** (bits - 1)) x -= 2 ** bits;
      return x;
    };
    const b = 0;
    for (const [l, name] of (["q", "k", "v", "o"] as const).entries())
      for (let j = 0; j < p.geo.tilesD; j++) {
        for (let i = 0; i < p.geo.lanes; i++) {
          const o = j * p.geo.lanes + i;
          expect(lane(ba[(b * 4 + l) * p.geo.tilesD + j], i, r.biasBits)).toBe(o < r.D ? model.blocks[b][name].bias[o] : 0);
          for (const c of [0, 3, r.D - 1]) expect(lane(wa[((b * 4 + l) * p.geo.tilesD + j) * r.D + c], i, r.weightBits)).toBe(o < r.D ? model.blocks[b][name].weight[o][c] : 0);
        }
      }
    const { input } = randomModel(r, 8);
    const words = attnHalfUmemImage(p, input);
    expect(words.length).toBe(p.umem.depth);
    expect(attnHalfUmemDecode(p, words)).toEqual(input);
  });

  it("cycle model: lifA, q/k/v/o from linearCycles, attention per timestep", () => {
    const { p } = byName("st3d_tiny").shape;
    const rows = [3, 0, 8, 1, 2, 2, 0, 5];
    const c = attnHalfCycles(p, rows, rows.map(() => 0));
    expect(c.lifA).toBe(2 * 4 * 2 + 3);
    expect(c.attention).toBe(2 * (4 + 4 * 4 + 5 + 2));
    expect(c.total).toBe(c.lifA + c.q + c.k + c.v + c.attention + c.o);
  });

  it("the golden model reproduces the reference vectors' traces", () => {
    for (const p of ["p1", "p2", "p3"]) {
      const c = cfgs.find((x) => x.vector === p)!;
      const v = loadVector(c.shape.r, path.join(VECTORS, p));
      const g = runGolden(c.shape.r, v.model, v.U0);
      for (let b = 0; b < c.shape.r.L; b++)
        for (const s of ["s0", "q", "k", "v", "o", "u1", "u2"]) expect(g.trace[`blocks.${b}.${s}`], `${p} ${b} ${s}`).toEqual(v.trace[`blocks.${b}.${s}`]);
    }
  });
});

describe("attnHalf RTL", () => {
  it("lints clean with verilator -Wall (half + engine + LIF arrays + attention)", async () => {
    for (const sh of shapes) {
      const res = await verilatorLint(rtlOf(sh), sh.p.module);
      expect(res.warnings, `${sh.r.name}\n${res.output}`).toEqual([]);
    }
    // lint-only: the default preset, and T = 1 / N = 1 / L = 1 sdsa with 2-lane tiles
    for (const r of [resolve(loadConfig("default")), resolveInput({ name: "hl", model: { timesteps: 1, tokens: 1, dim: 3, heads: 3, blocks: 1, attention: "sdsa" }, hardware: { linearLanes: 2, tokenGroup: 1, attnCores: 2 } })]) {
      const p = attnHalfParams(r);
      const dir = buildDir("test", "attnHalf", "lint", r.name);
      const rtl = renderAttnHalf(r, p).map((f) => {
        fs.writeFileSync(path.join(dir, f.path), f.content);
        return path.join(dir, f.path);
      });
      const res = await verilatorLint(rtl, p.module);
      expect(res.warnings, `${r.name}\n${res.output}`).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    for (const sh of [byName("st3d_tiny").shape, byName("hb").shape]) {
      // flattened: Yosys 0.23 "stat -json" interleaves its text hierarchy into the JSON of a
      // multi-level design, which yosysSynth cannot parse (the latch check itself runs before stat)
      const res = await yosysSynth(rtlOf(sh), sh.p.module, path.join(work, "synth", sh.p.module), { flatten: true });
      expect(res.latches).toBe(0);
      expect(res.totalCells).toBeGreaterThan(0);
    }
  });

  for (const sim of SIMS) {
    describe(sim, () => {
      for (const [seed, ds] of dataSets) {
        it(`U1, S0, Q, K, V, O and perf counters bit exact, cycles as modelled (data set ${seed}: ${ds})`, async () => {
          const dir = path.join(work, `data_${sim}_${seed}`);
          const infos = writeDataSet(dir, seed, ds);
          const res = await runSimExpectPass(built.get(sim)!, [`+data=${dir}`], seed);
          const cyc = cycleLines(res);
          cycles.set(`${sim}/${seed}`, cyc);
          for (const sh of shapes)
            infos.get(sh.prefix)!.forEach((info, run) => {
              for (const ph of ATTN_PHASE_NAMES) expect(cyc.get(`${sh.prefix}/${run}/${ph}`), `${sh.prefix} run ${run} ${ph}`).toBe(info.cycles[ph]);
              expect(cyc.get(`${sh.prefix}/${run}/total`), `${sh.prefix} run ${run}`).toBe(info.cycles.total);
            });
          // the data sets exercise what they claim
          const all = [...infos.values()].flat();
          if (ds === "zeros") for (const sh of shapes) expect(infos.get(sh.prefix)![0].spikes.s0, sh.prefix).toBe(0);
          else expect(all.every((i) => i.spikes.s0 > 0)).toBe(true);
          if (ds === "extreme")
            for (const sh of shapes) {
              const inf = infos.get(sh.prefix)!;
              expect(inf.reduce((a, i) => a + i.accSat, 0), sh.prefix).toBeGreaterThan(0);
              expect(inf.reduce((a, i) => a + i.residSat, 0), sh.prefix).toBeGreaterThan(0);
            }
          // perf_spk (checked by the TB) is the reference vectors' stats "spikes" when every block ran
          if (ds === "ref")
            for (const c of cfgs.filter((x) => x.vector && x.shape.runs === x.shape.r.L)) {
              const st = JSON.parse(fs.readFileSync(path.join(VECTORS, c.vector!, "stats.json"), "utf8"));
              expect(infos.get(c.shape.prefix)!.at(-1)!.perfSpk, c.shape.prefix).toBe(st.spikes);
            }
          if (ds === "dense") for (const sh of shapes) expect(infos.get(sh.prefix)!.reduce((a, i) => a + i.spikes.o, 0), `${sh.prefix} O spikes`).toBeGreaterThan(0);
          if (seed === 1 && sim === SIMS[0])
            for (const sh of shapes)
              console.log(
                `[attnHalf] ${sh.prefix}: ` +
                  infos
                    .get(sh.prefix)!
                    .map((i) => `block ${i.block}: ${ATTN_PHASE_NAMES.map((ph) => `${ph} ${i.cycles[ph]}`).join(", ")}, total ${i.cycles.total}`)
                    .join("; "),
              );
        });
      }

      it("fails loudly when one expected value is wrong", async () => {
        const dir = path.join(work, `data_${sim}_broken`);
        writeDataSet(dir, 21, "dense");
        const f = path.join(dir, "hc.r1.uexp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[6] = (BigInt("0x" + lines[6]) ^ 1n).toString(16).padStart(lines[6].length, "0"); // word 6 = row 2 (t 0, n 2), tile 0, lane 0
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built.get(sim)!, [`+data=${dir}`], 21);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH hc_attnHalf run 1 U1 word 6:/);
      });
    });
  }

  it("cycle counts are the same on both simulators", () => {
    for (const [seed] of dataSets) {
      const a = cycles.get(`${SIMS[0]}/${seed}`);
      const b = cycles.get(`${SIMS[1]}/${seed}`);
      expect(a && b, `data set ${seed} ran on both`).toBeTruthy();
      expect([...a!.entries()].sort()).toEqual([...b!.entries()].sort());
    }
  });
});
