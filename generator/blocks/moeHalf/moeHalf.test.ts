/**
 * moeHalf end to end: the reference vectors p1/p2/p3 (outside oracle) and random models
 * (E in {1, 4, 6, 16}, k in {1, 2, E}, per-step and per-token, expertCores < E and = E,
 * tiny router weights so that equal scores are common) -> behavioral memories -> RTL on
 * Icarus and Verilator, one testbench build per simulator per group of configs, several
 * models per build.  Every umem word (U2), every S1 row, every routing column and the
 * performance counters are compared; per-phase cycles are checked against the cycle model
 * (exact for phases 1, 2, 3, 5 and for the expert phase with one core); the expert phase is
 * shown to grow with routed (row, expert) pairs, not with E.  Plus lint, synthesis (no
 * latch) and a check that the testbench fails on a corrupted expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveInput, type Resolved } from "../../config/resolve.ts";
import type { UserConfigInput } from "../../config/schema.ts";
import { runGolden, type Model } from "../../model/golden.ts";
import { loadInput, loadModelDir, randomModel } from "../../model/tensors.ts";
import { readNpy, unflatten } from "../../util/npy.ts";
import { Prng } from "../../util/prng.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built, type Sim } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { expertCoreParams, renderExpertCore } from "../expertCore/expertCore.ts";
import { moeHalfCycles, moeHalfParams, moeHalfPorts, moeWork, renderMoeHalf, type MoeCycles } from "./moeHalf.ts";
import { blocksFromTrace, phaseCycles, renderMoeTb, writeMoeRun, type MoeRun, type MoeTbInstance } from "./testbench.ts";

type T3 = number[][][];
const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../test/fixtures/vectors");

// ---------------------------------------------------------------------------------------------
// Configurations

const small = (m: Record<string, unknown>) => ({ heads: 1, blocks: 1, ...m });
function vectorConfig(p: string, hardware: UserConfigInput["hardware"]): Resolved {
  const c = JSON.parse(fs.readFileSync(path.join(VECTORS, p, "config.json"), "utf8"));
  return resolveInput({ ...c, hardware });
}

interface Inst extends MoeTbInstance {
  kind: "vector" | "random" | "cycle";
}
const inst = (r: Resolved, label: string, kind: Inst["kind"]): Inst => ({ r, p: moeHalfParams(r), label, kind });

/** group A: the reference vectors plus random shapes */
const groupA: Inst[] = [
  inst(vectorConfig("p1", { linearLanes: 4, tokenGroup: 3, expertCores: 1 }), "p1", "vector"),
  inst(vectorConfig("p2", { linearLanes: 5, tokenGroup: 4, expertCores: 2 }), "p2", "vector"),
  inst(vectorConfig("p3", { linearLanes: 6, tokenGroup: 8, expertCores: 3 }), "p3", "vector"),
  // E = 1: every row to the only expert; partial tiles of D and F; two blocks
  inst(
    resolveInput({ name: "re1", model: small({ timesteps: 2, tokens: 3, dim: 6, expertHidden: 5, experts: 1, topK: 1, blocks: 2 }), hardware: { linearLanes: 4, tokenGroup: 2, expertCores: 1 } }),
    "re1",
    "random",
  ),
  // E = 4, k = 2, per-token, one core per expert; N not a power of two
  inst(
    resolveInput({
      name: "re4t",
      model: small({ timesteps: 3, tokens: 5, dim: 8, expertHidden: 12, experts: 4, topK: 2, routing: "per-token" }),
      hardware: { linearLanes: 4, tokenGroup: 4, expertCores: 4 },
    }),
    "re4t",
    "random",
  ),
  // E = 4, k = E, per-step, 2 cores (2 experts each); soft reset and fire ">" in LIF_h, two blocks
  inst(
    resolveInput({
      name: "re4a",
      model: small({ timesteps: 2, tokens: 4, dim: 10, expertHidden: 8, experts: 4, topK: 4, blocks: 2, lif: { hidden: { reset: "subtract", fire: ">", threshold: 40 } } }),
      hardware: { linearLanes: 4, tokenGroup: 3, expertCores: 2 },
    }),
    "re4a",
    "random",
  ),
];

/** group B: larger E, per-token ties, and the cycle experiments */
const cycShape = { timesteps: 4, tokens: 16, dim: 16, expertHidden: 16 };
const cycHw = { linearLanes: 8, tokenGroup: 4, expertCores: 1 };
const groupB: Inst[] = [
  // E = 6, k = 2, per-step, 4 cores (cores 0, 1 run two experts, cores 2, 3 one)
  inst(
    resolveInput({ name: "re6", model: small({ timesteps: 2, tokens: 6, dim: 8, expertHidden: 8, experts: 6, topK: 2 }), hardware: { linearLanes: 8, tokenGroup: 4, expertCores: 4 } }),
    "re6",
    "random",
  ),
  // E = 6, k = 1, per-token, one core per expert, hidden LIF without input decay
  inst(
    resolveInput({
      name: "re6t",
      model: small({ timesteps: 3, tokens: 4, dim: 8, expertHidden: 6, experts: 6, topK: 1, routing: "per-token", lif: { hidden: { decayInput: false, tauShift: 2 } } }),
      hardware: { linearLanes: 3, tokenGroup: 2, expertCores: 6 },
    }),
    "re6t",
    "random",
  ),
  // E = 16, k = 2, per-token, 4 cores x 4 slots
  inst(
    resolveInput({
      name: "re16t",
      model: small({ timesteps: 2, tokens: 4, dim: 8, expertHidden: 8, experts: 16, topK: 2, routing: "per-token" }),
      hardware: { linearLanes: 4, tokenGroup: 4, expertCores: 4 },
    }),
    "re16t",
    "random",
  ),
  // E = 16, k = E, per-step, 2 cores x 8 slots
  inst(
    resolveInput({ name: "re16a", model: small({ timesteps: 2, tokens: 2, dim: 4, expertHidden: 4, experts: 16, topK: 16 }), hardware: { linearLanes: 4, tokenGroup: 2, expertCores: 2 } }),
    "re16a",
    "random",
  ),
  // cycle experiments: same shape, E = 4 k = 1, E = 4 k = 2, E = 16 k = 1 (one core: the
  // expert phase is exactly the sum of the experts' work, see moeHalfCycles)
  inst(resolveInput({ name: "cy4k1", model: small({ ...cycShape, experts: 4, topK: 1 }), hardware: cycHw }), "cy4k1", "cycle"),
  inst(resolveInput({ name: "cy4k2", model: small({ ...cycShape, experts: 4, topK: 2 }), hardware: cycHw }), "cy4k2", "cycle"),
  inst(resolveInput({ name: "cy16k1", model: small({ ...cycShape, experts: 16, topK: 1 }), hardware: cycHw }), "cy16k1", "cycle"),
];

// ---------------------------------------------------------------------------------------------
// Models

function readTrace(dir: string, r: Resolved): Record<string, T3> {
  const out: Record<string, T3> = {};
  for (let b = 0; b < r.L; b++)
    for (const st of ["u1", "u2", "s1", "sel"]) {
      const a = readNpy(path.join(dir, "trace", `blocks.${b}.${st}.npy`));
      out[`blocks.${b}.${st}`] = unflatten(a.shape, a.data) as T3;
    }
  return out;
}

/** Router weights in {-1, 0, 1} and biases in {-1, 0, 1}; with `ties`, pairs of experts share a router row. */
function tinyRouter(r: Resolved, model: Model, seed: number, ties: boolean): void {
  const rng = new Prng(seed);
  for (const bw of model.blocks) {
    bw.router.weight = bw.router.weight.map((row) => row.map(() => rng.int(-1, 1)));
    bw.router.bias = bw.router.bias.map(() => (ties ? 0 : rng.int(-1, 1)));
    if (ties) for (let e = 1; e < r.E; e += 2) bw.router.weight[e] = bw.router.weight[e - 1].slice();
  }
}

interface RunInfo {
  run: MoeRun;
  /** expected cycles per block */
  cycles: MoeCycles[];
  routed: number;
  hidden: number;
}

function goldenRun(r: Resolved, p: Inst["p"], model: Model, U0: T3, traceOverride?: Record<string, T3>): RunInfo {
  const g = runGolden(r, model, U0);
  const trace = traceOverride ?? g.trace;
  const blocks = blocksFromTrace(r, trace, g.stats);
  const cycles = [...Array(r.L).keys()].map((b) => moeHalfCycles(p, moeWork(r, model, b, trace[`blocks.${b}.s1`], trace[`blocks.${b}.sel`])));
  const hidden = g.stats.perLayer.reduce((a, s) => a + s.spikes.h, 0);
  return { run: { model, blocks }, cycles, routed: g.stats.routed, hidden };
}

/** The E = 16 cycle model: experts 0..3 (and router rows 0..3) of the E = 4 model, experts 4..15 never selected. */
function widen(r16: Resolved, m4: Model, rng: Prng): Model {
  return {
    blocks: m4.blocks.map((bw) => {
      const extra = randomModel(r16, rng.int(1, 1 << 30)).model.blocks[0];
      return {
        ...bw,
        router: {
          weight: [...bw.router.weight, ...extra.router.weight.slice(4).map((row) => row.map(() => 0))],
          bias: [...bw.router.bias, ...extra.router.bias.slice(4).map(() => -1000)],
        },
        experts: [...bw.experts, ...extra.experts.slice(4)],
      };
    }),
  };
}

/** Runs of a group: run index -> per instance the model and expectations. */
function makeRuns(group: Inst[], runIdx: number): RunInfo[] {
  const out: RunInfo[] = [];
  const cyc4: { model?: Model; input?: T3 } = {};
  for (const i of group) {
    const seed = 1000 * runIdx + group.indexOf(i) + 7;
    if (i.kind === "vector" && runIdx === 0) {
      const dir = path.join(VECTORS, i.label);
      const model = loadModelDir(i.r, path.join(dir, "weights"));
      out.push(goldenRun(i.r, i.p, model, loadInput(i.r, path.join(dir, "input.npy")), readTrace(dir, i.r)));
    } else if (i.kind === "cycle") {
      // the same U0 and experts 0..3 for all three; k = 2 routes a superset of k = 1's pairs
      if (!cyc4.model) {
        const r4 = group.find((x) => x.label === "cy4k1")!.r;
        const rm = randomModel(r4, 500 + runIdx, 0.2);
        tinyRouter(r4, rm.model, 600 + runIdx, false);
        cyc4.model = rm.model;
        cyc4.input = rm.input;
      }
      const model = i.r.E === 4 ? cyc4.model : widen(i.r, cyc4.model, new Prng(700 + runIdx));
      out.push(goldenRun(i.r, i.p, model, cyc4.input!));
    } else {
      const density = [0.15, 0.3, 0.1][runIdx % 3];
      const rm = randomModel(i.r, seed, density);
      tinyRouter(i.r, rm.model, seed + 1, runIdx % 2 === 1);
      out.push(goldenRun(i.r, i.p, rm.model, rm.input));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Builds

const work = buildDir("test", "moeHalf");
const groups = [
  { name: "A", insts: groupA, tb: "mh_tb_a" },
  { name: "B", insts: groupB, tb: "mh_tb_b" },
];
const RUNS = 2;
const rendered = groups.map((g) => {
  const dir = path.join(work, g.name);
  fs.mkdirSync(dir, { recursive: true });
  const files = renderMoeTb(g.tb, g.insts);
  for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.content);
  return { ...g, dir, files, paths: files.map((f) => path.join(dir, f.path)) };
});
const runInfo = groups.map((g) => [...Array(RUNS).keys()].map((k) => makeRuns(g.insts, k)));

const built = new Map<string, Built>();
// synthesis of the smallest config (p1: one core), started with the builds
const synthInst = groupA[0];
let synth: Promise<Awaited<ReturnType<typeof yosysSynth>>>;
beforeAll(async () => {
  const rtl = rendered[0].files.filter((f) => f.kind === "rtl" && f.path.startsWith(`${synthInst.r.name}_`)).map((f) => path.join(rendered[0].dir, f.path));
  synth = yosysSynth(rtl, synthInst.p.module, path.join(work, "synth", synthInst.r.name));
  synth.catch(() => undefined);
  // every build of the file at once (2 cores: the slow Verilator builds overlap)
  await Promise.all(
    rendered.flatMap((g) =>
      SIMS.map(async (sim) => {
        built.set(`${g.name}/${sim}`, await buildSim(sim, g.paths, g.tb, g.dir));
      }),
    ),
  );
});

function dataDir(sim: Sim, g: (typeof rendered)[number], k: number): string {
  const dir = path.join(g.dir, `data_${sim}_${k}`);
  writeMoeRun(
    dir,
    g.insts,
    runInfo[groups.indexOf(groups.find((x) => x.name === g.name)!)][k].map((x) => x.run),
    k === 0 ? 0 : 11 + k,
  );
  return dir;
}

const measured = new Map<string, number[][]>();

describe("moeHalf RTL", () => {
  it("has the documented port list", () => {
    const r = resolveInput({ name: "st3d_tiny", model: { timesteps: 2, tokens: 4, dim: 8, heads: 2, blocks: 2, experts: 4, topK: 2, expertHidden: 8 }, hardware: { linearLanes: 4, tokenGroup: 4, expertCores: 2 } });
    const p = moeHalfParams(r);
    const ports = moeHalfPorts(p);
    expect(ports.slice(0, 17).map((q) => `${q.name}:${q.width}`)).toEqual([
      "clk:1", "rst:1", "start:1", "cfg_block:1", "busy:1", "done:1", "phase:3",
      "perf_syn:64", "perf_spk_s1:64", "perf_spk_h:64", "perf_routed:64",
      "u_re:1", "u_raddr:4", "u_rdata:64", "u_we:1", "u_waddr:4", "u_wdata:64",
    ]);
    expect(p.memories.map((m) => `${m.prefix}:${m.access}:${m.mem.depth}x${m.mem.width}`)).toEqual([
      "sbufm:rw:8x8", "lifm:rw:8x64", "mmem:rw:16x72", "wr:read:16x32", "br:read:2x64",
      "hbuf0:rw:8x8", "lifh0:rw:16x64", "wx0:read:128x32", "bx0:read:16x64",
      "hbuf1:rw:8x8", "lifh1:rw:16x64", "wx1:read:128x32", "bx1:read:16x64",
    ]);
    // every logical-memory pin is a port, in order
    const names = ports.map((q) => q.name);
    for (const m of p.memories) {
      const pins = m.access === "rw" ? ["re", "raddr", "rdata", "we", "waddr", "wdata", "wmask"] : ["re", "raddr", "rdata"];
      const at = names.indexOf(`${m.prefix}_re`);
      expect(names.slice(at, at + pins.length)).toEqual(pins.map((x) => `${m.prefix}_${x}`));
    }
  });

  it("lints clean with verilator -Wall (every config, also T = 1, and the core alone)", async () => {
    const extra = resolveInput({ name: "rt1", model: small({ timesteps: 1, tokens: 4, dim: 8, expertHidden: 8, experts: 1, topK: 1 }), hardware: { linearLanes: 8, tokenGroup: 2, expertCores: 1 } });
    const extraT = resolveInput({ name: "rt1t", model: small({ timesteps: 1, tokens: 3, dim: 8, expertHidden: 8, experts: 3, topK: 2, routing: "per-token", blocks: 3 }), hardware: { linearLanes: 4, tokenGroup: 2, expertCores: 2 } });
    const all = [...groupA, ...groupB].map((i) => i.r).concat([extra, extraT]);
    for (const r of all) {
      const p = moeHalfParams(r);
      const dir = path.join(work, "lint", r.name);
      fs.mkdirSync(dir, { recursive: true });
      const files = renderMoeHalf(r, p);
      for (const f of files) fs.writeFileSync(path.join(dir, f.path), f.content);
      const paths = files.map((f) => path.join(dir, f.path));
      const res = await verilatorLint(paths, p.module);
      expect(res.warnings, `${r.name}\n${res.output}`).toEqual([]);
      if (r.name === "re4a") {
        const cp = expertCoreParams(r);
        const core = renderExpertCore(r, cp).map((f) => path.join(dir, f.path));
        const rc = await verilatorLint(core, cp.module);
        expect(rc.warnings, rc.output).toEqual([]);
      }
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    const res = await synth;
    expect(res.latches).toBe(0);
    expect(res.totalCells).toBeGreaterThan(0);
  });

  it("stimulus is not vacuous: routed pairs, hidden spikes, ties", () => {
    for (const gi of runInfo)
      for (const run of gi)
        for (const x of run) {
          expect(x.routed).toBeGreaterThan(0);
        }
    // some models produce hidden spikes in every group
    for (const gi of runInfo) expect(gi.flat().filter((x) => x.hidden > 0).length).toBeGreaterThan(3);
  });

  for (const sim of SIMS) {
    describe(sim, () => {
      for (const g of rendered) {
        for (let k = 0; k < RUNS; k++) {
          it(`group ${g.name}, models #${k}: U2, S1, sel and counters bit exact; phase cycles = model`, async () => {
            const b = built.get(`${g.name}/${sim}`)!;
            const res = await runSimExpectPass(b, [`+data=${dataDir(sim, g, k)}`], k + 1);
            const pc = phaseCycles(res.lines);
            const infos = runInfo[groups.findIndex((x) => x.name === g.name)][k];
            g.insts.forEach((i, idx) => {
              const got = pc.get(i.label);
              expect(got, i.label).toBeDefined();
              infos[idx].cycles.forEach((m, blk) => {
                const [p1, p2, p3, p4, p5] = got![blk];
                measured.set(`${sim}/${i.label}/${k}`, got!);
                expect([p1, p2, p3, p5], `${i.label} block ${blk}`).toEqual([m.lifm, m.router, m.topk, m.final]);
                if (i.p.moe.C === 1) expect(p4, `${i.label} block ${blk} experts`).toBe(m.experts);
                else {
                  // arbitration of the shared sbufM port and of the merge only adds cycles
                  expect(p4, `${i.label} block ${blk} experts`).toBeGreaterThanOrEqual(m.experts);
                  expect(p4, `${i.label} block ${blk} experts`).toBeLessThanOrEqual(m.expertsMax);
                }
              });
            });
          });
        }
      }

      it("expert-phase cycles grow with routed pairs, not with E", () => {
        for (let k = 0; k < RUNS; k++) {
          const e4k1 = measured.get(`${sim}/cy4k1/${k}`)![0][3];
          const e4k2 = measured.get(`${sim}/cy4k2/${k}`)![0][3];
          const e16k1 = measured.get(`${sim}/cy16k1/${k}`)![0][3];
          // same routed pairs (experts 4..15 never selected): only the 12 empty slots differ, 1 cycle each
          expect(e16k1 - e4k1).toBe(12);
          // the whole run differs by those 12 cycles too (router and LIF_m do not depend on E)
          const tot = (l: string) => measured.get(`${sim}/${l}/${k}`)![0].reduce((a, x) => a + x, 0);
          expect(tot("cy16k1") - tot("cy4k1")).toBe(12);
          // twice the routed pairs: about twice the expert phase
          const ratio = e4k2 / e4k1;
          expect(ratio).toBeGreaterThan(1.8);
          expect(ratio).toBeLessThan(2.2);
        }
      });

      it("fails loudly on a corrupted expectation", async () => {
        const g = rendered[0];
        const b = built.get(`${g.name}/${sim}`)!;
        const dir = dataDir(sim, g, 0) + "_broken";
        fs.rmSync(dir, { recursive: true, force: true });
        fs.cpSync(path.join(g.dir, `data_${sim}_0`), dir, { recursive: true });
        // one U2 word of p2's second block
        const f = path.join(dir, "i1.b1.u2.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[3] = (BigInt("0x" + lines[3]) ^ 4n).toString(16).padStart(lines[3].length, "0");
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(b, [`+data=${dir}`], 5);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH vec2_moeHalf block 1: umem\[3\]/);
      });
    });
  }
});
