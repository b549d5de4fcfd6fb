/**
 * The whole accelerator end to end: `st3d run` drives the RTL through its host port and
 * must match the golden model (and the reference vectors' expected.npy) value for value,
 * on Icarus and on Verilator.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../generator/config/load.ts";
import { resolve, resolveInput, type Resolved } from "../generator/config/resolve.ts";
import { runGolden } from "../generator/model/golden.ts";
import { loadInput, loadModelDir, randomModel, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { st3dRun } from "../generator/run/run.ts";
import { readNpy } from "../generator/util/npy.ts";
import { SIMS } from "../generator/sim/harness.ts";

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `st3d-e2e-${p}-`));
const flat = (U: number[][][]) => U.flat(2);
const VEC = path.resolve("test/fixtures/vectors");

function writeRandom(r: Resolved, seed: number, density: number) {
  const dir = tmp(`rand${seed}`);
  const { model, input } = randomModel(r, seed, density);
  writeModelDir(r, model, path.join(dir, "weights"));
  writeInput(r, input, path.join(dir, "input.npy"));
  return { dir, model, input };
}

/** Small configs covering: L >= 2, ssa and sdsa, per-step and per-token, reset subtract, fire ">", saturating residBits. */
const configs: Record<string, Resolved> = {
  tiny: resolve(loadConfig("tiny")),
  sdsaTok: resolveInput({
    name: "e2e_b",
    model: { timesteps: 3, tokens: 3, dim: 6, heads: 3, blocks: 2, experts: 3, topK: 1, expertHidden: 5, attention: "sdsa", routing: "per-token", residBits: 9, lif: { qkv: { reset: "subtract", fire: ">" } } },
    hardware: { synapticLanes: 7, tokenGroup: 3, attnCores: 2 },
  }),
};

describe("st3d run (tiny preset and small configs) matches the golden model", () => {
  for (const [name, r] of Object.entries(configs)) {
    for (const sim of SIMS) {
      it(`${name} on ${sim}`, async () => {
        for (const [seed, density] of [
          [1, 0.2],
          [2, 0.35],
        ] as const) {
          const { dir, model, input } = writeRandom(r, seed, density);
          const g = runGolden(r, model, input);
          const out = path.join(dir, `out-${sim}`);
          const res = await st3dRun(r, { weights: path.join(dir, "weights"), input: path.join(dir, "input.npy"), out, sim, check: true });
          expect(flat(res.output)).toEqual(flat(g.out));
          // U after every half of every block, observed in the RTL, equals the golden trace
          expect(res.json.check?.match, JSON.stringify(res.json.check?.first)).toBe(true);
          expect(res.json.check?.tensors).toHaveLength(2 * r.L + 1);
          const npy = readNpy(path.join(out, "output.npy"));
          expect(npy.shape).toEqual([r.T, r.N, r.D]);
          expect(npy.data).toEqual(flat(g.out));
          const j = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
          expect(j.synapticOps).toBe(g.stats.syn);
          expect(j.spikes).toBe(g.stats.spikes);
          expect(j.routed).toBe(g.stats.routed);
          expect(j.cycles).toBeGreaterThan(0);
          expect(j.perBlock.reduce((a: number, x: { cycles: number }) => a + x.cycles, 0)).toBeLessThanOrEqual(j.cycles);
          expect(j.lifSpikes).toBe(g.stats.lifSpikes);
        }
      });
    }
  }
});

describe("reference vectors through the RTL", () => {
  for (const v of ["p1", "p2", "p3"]) {
    it(`${v}: output equals expected.npy (verilator)`, async () => {
      const cfg = JSON.parse(fs.readFileSync(path.join(VEC, v, "config.json"), "utf8"));
      const r = resolve(parseConfig(cfg, `${v}/config.json`));
      const out = tmp(v);
      const res = await st3dRun(r, { weights: path.join(VEC, v, "weights"), input: path.join(VEC, v, "input.npy"), out, sim: "verilator" });
      expect(flat(res.output)).toEqual(readNpy(path.join(VEC, v, "expected.npy")).data);
    });
  }
});

describe("st3d run command line", () => {
  const ST3D = path.resolve("bin/st3d.js");
  let dir: string;
  beforeAll(async () => {
    dir = tmp("cli");
    const r = await execa("node", [ST3D, "random-model", "tiny", "--seed", "5", "--density", "0.25", "-o", dir], { reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
  });
  it("--golden and the RTL agree, value for value", async () => {
    const g = await execa("node", [ST3D, "run", "-c", "tiny", "-w", `${dir}/weights`, "-i", `${dir}/input.npy`, "-o", `${dir}/g`, "--golden"], { reject: false, all: true });
    expect(g.exitCode, g.all).toBe(0);
    const s = await execa("node", [ST3D, "run", "-c", "tiny", "-w", `${dir}/weights`, "-i", `${dir}/input.npy`, "-o", `${dir}/s`, "--sim", "icarus"], { reject: false, all: true });
    expect(s.exitCode, s.all).toBe(0);
    expect(readNpy(`${dir}/s/output.npy`).data).toEqual(readNpy(`${dir}/g/output.npy`).data);
    const j = JSON.parse(fs.readFileSync(`${dir}/s/run.json`, "utf8"));
    const gj = JSON.parse(fs.readFileSync(`${dir}/g/run.json`, "utf8"));
    // one set of keys for golden and RTL runs (docs/RUN.md)
    expect(Object.keys(gj).sort()).toEqual(Object.keys(j).sort());
    expect(Object.keys(gj.perBlock[0]).sort()).toEqual(Object.keys(j.perBlock[0]).sort());
    for (const k of ["synapticOps", "synapticOpsByHalf", "spikes", "spikesByStage", "lifSpikes", "routed", "lanes"]) expect(j[k], k).toEqual(gj[k]);
    for (const k of ["cycles", "utilization", "hostWrites", "simulatedCycles", "startCycle", "doneCycle"]) {
      expect(j[k], k).toBeGreaterThan(0);
      expect(gj[k], k).toBeNull();
    }
    expect([j.simulator, j.view, gj.simulator, gj.view]).toEqual(["icarus", "2d", "golden", null]);
  });
  it("refuses a tensor with a wrong shape, naming it, and writes nothing", async () => {
    const bad = tmp("bad");
    fs.cpSync(`${dir}/weights`, `${bad}/weights`, { recursive: true });
    fs.copyFileSync(`${dir}/weights/blocks.0.k.weight.npy`, `${bad}/weights/blocks.1.q.bias.npy`);
    const res = await execa("node", [ST3D, "run", "-c", "tiny", "-w", `${bad}/weights`, "-i", `${dir}/input.npy`, "-o", `${bad}/out`], { reject: false, all: true });
    expect(res.exitCode).not.toBe(0);
    expect(res.all).toMatch(/blocks\.1\.q\.bias/);
    expect(fs.existsSync(`${bad}/out/output.npy`)).toBe(false);
  });
  it("refuses a weight over weightBits, naming it", async () => {
    const bad = tmp("range");
    fs.cpSync(`${dir}/weights`, `${bad}/weights`, { recursive: true });
    const { writeNpy } = await import("../generator/util/npy.ts");
    const r = resolve(loadConfig("tiny"));
    writeNpy(`${bad}/weights/blocks.0.v.weight.npy`, [r.D, r.D], new Array(r.D * r.D).fill(0).map((_, i) => (i === 3 ? 300 : 1)), "<i2");
    const res = await execa("node", [ST3D, "run", "-c", "tiny", "-w", `${bad}/weights`, "-i", `${dir}/input.npy`, "-o", `${bad}/out`, "--golden"], { reject: false, all: true });
    expect(res.exitCode).not.toBe(0);
    expect(res.all).toMatch(/blocks\.0\.v\.weight/);
    expect(res.all).toMatch(/weightBits/);
  });
  it("a config with only name and model runs", async () => {
    const cfgDir = tmp("nm");
    const cfg = path.join(cfgDir, "c.yaml");
    fs.writeFileSync(cfg, "name: only_nm\nmodel: { timesteps: 2, tokens: 2, dim: 4, heads: 2, blocks: 1, experts: 2, topK: 1, expertHidden: 4 }\n");
    const m = await execa("node", [ST3D, "random-model", cfg, "-o", `${cfgDir}/m`], { reject: false, all: true });
    expect(m.exitCode, m.all).toBe(0);
    const res = await execa("node", [ST3D, "run", "-c", cfg, "-w", `${cfgDir}/m/weights`, "-i", `${cfgDir}/m/input.npy`, "-o", `${cfgDir}/out`, "--sim", "verilator"], { reject: false, all: true });
    expect(res.exitCode, res.all).toBe(0);
    const r = resolve(parseConfig({ name: "only_nm", model: { timesteps: 2, tokens: 2, dim: 4, heads: 2, blocks: 1, experts: 2, topK: 1, expertHidden: 4 } }));
    const g = runGolden(r, loadModelDir(r, `${cfgDir}/m/weights`), loadInput(r, `${cfgDir}/m/input.npy`));
    expect(readNpy(`${cfgDir}/out/output.npy`).data).toEqual(flat(g.out));
  });
});

describe("3D view: the tiers assembled through their F2F ports give exactly the 2D output", () => {
  const base = { timesteps: 2, tokens: 3, dim: 8, heads: 2, blocks: 2, experts: 3, topK: 2, expertHidden: 6, lif: { attn: { threshold: 1 } } };
  for (const mode of ["memory-on-logic", "logic-on-logic", "auto"] as const) {
    for (const sim of SIMS) {
      it(`${mode} on ${sim}: --view 3d == --view 2d == --golden`, async () => {
        const r = resolveInput({ name: "e2e3d", model: base, hardware: { synapticLanes: 7, tokenGroup: 3, attnCores: 1 }, integration: { mode } });
        const { dir, model, input } = writeRandom(r, 7, 0.25);
        const g = runGolden(r, model, input);
        const o3 = await st3dRun(r, { weights: path.join(dir, "weights"), input: path.join(dir, "input.npy"), out: path.join(dir, "o3"), sim, view: "3d", check: true });
        expect(o3.json.check?.match, JSON.stringify(o3.json.check?.first)).toBe(true);
        const o2 = await st3dRun(r, { weights: path.join(dir, "weights"), input: path.join(dir, "input.npy"), out: path.join(dir, "o2"), sim, view: "2d" });
        expect(flat(o3.output)).toEqual(flat(g.out));
        expect(flat(o2.output)).toEqual(flat(g.out));
        expect(o3.json.cycles).toBe(o2.json.cycles);
        expect(o3.json.view).toBe("3d");
      });
    }
  }
});
