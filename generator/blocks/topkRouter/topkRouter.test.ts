/**
 * topkRouter: the rank-counting rule against the golden topk (TypeScript), then the RTL
 * on Icarus and Verilator with every selection compared with the golden mask —
 * exhaustive over all score vectors for E <= 5, random with many ties and extremes for
 * E = 6 and 16 — plus lint, synthesis (no latch) and a check that the testbench fails
 * on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import { resolveInput, type Resolved } from "../../config/resolve.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, simValue, SIMS, type Built } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { Prng } from "../../util/prng.ts";
import { rankSelect, selMask, topk } from "./golden.ts";
import { topkRouterParams } from "./topkRouter.ts";
import { randomScores, renderTopkTb, vectorCount, writeTopkStimulus, type ScoreStyle, type TopkTbInstance } from "./testbench.ts";

const rCache = new Map<string, Resolved>();
/** A resolved config with E experts and top-k (default T = 4, accBits = 16 -> routerSumBits = 18). */
function rFor(E: number, k: number): Resolved {
  const key = `${E}/${k}`;
  let r = rCache.get(key);
  if (!r) {
    r = resolveInput({ name: "tk", model: { experts: E, topK: k } });
    rCache.set(key, r);
  }
  return r;
}

function inst(E: number, k: number, zw: "acc" | "sum" | number, kind: TopkTbInstance["kind"], vectors?: number): TopkTbInstance {
  const r = rFor(E, k);
  const zBits = zw === "acc" ? r.accBits : zw === "sum" ? r.routerSumBits : zw;
  const label = `e${E}k${k}z${zBits}`;
  return { r, p: topkRouterParams(r, { zBits, tagBits: kind === "exhaustive" ? 4 : 7, tag: label }), label, kind, vectors };
}

const RANDOM_VECTORS = 4000;
const insts: TopkTbInstance[] = [];
// exhaustive: every k for E = 1..4 over 3-bit scores (-4..3), and E = 5 over 2-bit scores (-2..1)
for (let E = 1; E <= 4; E++) for (let k = 1; k <= E; k++) insts.push(inst(E, k, 3, "exhaustive"));
for (let k = 1; k <= 5; k++) insts.push(inst(5, k, 2, "exhaustive"));
// random: per-token width (routerSumBits) for E = 6, per-step width (accBits) for E = 16
for (const k of [1, 2, 3, 6]) insts.push(inst(6, k, "sum", "random", RANDOM_VECTORS));
for (const k of [1, 2, 7, 16]) insts.push(inst(16, k, "acc", "random", RANDOM_VECTORS));
insts.push(inst(16, 2, "sum", "random", RANDOM_VECTORS));

const tbModule = "tk_topkRouter_tb";
const files = renderTopkTb(tbModule, insts);
const work = buildDir("test", "topkRouter");
const paths = files.map((f) => path.join(work, f.path));
const rtlOf = (i: TopkTbInstance) => files.filter((f) => f.kind !== "tb" && f.path === `${i.p.module}.v`).map((f) => path.join(work, f.path));
const main = insts.find((i) => i.p.E === 16 && i.p.k === 2 && i.p.zBits === 16)!;
const seeds = [31, 32, 33];

beforeAll(() => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
});

describe("topkRouter golden / parameters", () => {
  it("rank counting equals the golden topk (exhaustive E <= 5, random E = 16)", () => {
    let n = 0;
    for (let E = 1; E <= 5; E++) {
      const R = 4; // scores -2..1
      for (let v = 0; v < R ** E; v++) {
        const z = [...Array(E).keys()].map((e) => (Math.floor(v / R ** e) % R) - 2);
        for (let k = 0; k <= E; k++) {
          expect(rankSelect(z, k)).toEqual(selMask(z, k));
          n++;
        }
      }
    }
    const rng = new Prng(5);
    const styles: ScoreStyle[] = ["uniform", "tiny", "extreme", "allEqual", "twoLevel"];
    for (let t = 0; t < 2000; t++) {
      const z = randomScores(rng, 16, 8, styles[t % styles.length]);
      for (const k of [1, 2, 7, 16]) expect(rankSelect(z, k)).toEqual(selMask(z, k));
    }
    expect(n).toBeGreaterThan(1000);
  });

  it("golden tie rule: lower index wins, larger score first", () => {
    expect(topk([5, 5, 5, 5], 2)).toEqual([0, 1]);
    expect(topk([1, 3, 3, 2], 2)).toEqual([1, 2]);
    expect(topk([-8, 7, -8, 7], 3)).toEqual([1, 3, 0]);
    expect(selMask([0, -1, 0, 2], 2)).toEqual([1, 0, 0, 1]);
  });

  it("derives comparator count, tree and module names", () => {
    const r = rFor(16, 2);
    const p = topkRouterParams(r, { zBits: r.accBits, tagBits: 8 });
    expect(p.module).toBe("tk_topkRouter");
    expect(p.comparators).toBe(120);
    expect(p.mode).toBe("count");
    expect(p.addersPerExpert).toBe(14); // 15 leaves -> 14 two-input adders
    expect(p.treeLevels).toBe(4);
    expect(p.countBits).toBe(4); // 0..15
    expect(p.latency).toBe(1);
    const q = topkRouterParams(r, { zBits: r.routerSumBits, tagBits: 8, tag: "token" });
    expect(q.module).toBe("tk_topkRouter_token");
    expect(q.zBits).toBe(18);
    expect(topkRouterParams(rFor(16, 1), { zBits: 16, tagBits: 1 })).toMatchObject({ mode: "nor", comparators: 120, addersPerExpert: 0 });
    expect(topkRouterParams(rFor(16, 16), { zBits: 16, tagBits: 1 })).toMatchObject({ mode: "all", comparators: 0 });
    expect(topkRouterParams(rFor(1, 1), { zBits: 3, tagBits: 1 })).toMatchObject({ mode: "all", comparators: 0 });
    expect(() => topkRouterParams(r, { zBits: 0, tagBits: 8 })).toThrow(/zBits/);
    expect(() => topkRouterParams(r, { zBits: 8, tagBits: 0 })).toThrow(/tagBits/);
    const t = topkRouterParams(rFor(6, 2), { zBits: 8, tagBits: 1 });
    expect(t).toMatchObject({ countName: "pc3_0", countBits: 3, addersPerExpert: 4, treeLevels: 3 });
    expect(t.tree.map((x) => `${x.name}=${x.a}+${x.b}`)).toEqual([
      "pc1_0={ {1{1'b0}}, bt[0] }+{ {1{1'b0}}, bt[1] }",
      "pc1_1={ {1{1'b0}}, bt[2] }+{ {1{1'b0}}, bt[3] }",
      "pc2_0={ {1{1'b0}}, pc1_0 }+{ {1{1'b0}}, pc1_1 }",
      "pc3_0=pc2_0+{ {2{1'b0}}, bt[4] }",
    ]);
  });
});

describe("topkRouter RTL", () => {
  it("lints clean with verilator -Wall (every variant, E=16 k=2 included)", async () => {
    expect(insts).toContain(main);
    for (const i of insts) {
      const res = await verilatorLint(rtlOf(i), i.p.module);
      expect(res.warnings, `${i.label}\n${res.output}`).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch (E=16: k=2, k=1, k=16)", async () => {
    for (const i of insts.filter((x) => x.p.E === 16 && x.p.zBits === 16 && x.p.k !== 7)) {
      const res = await yosysSynth(rtlOf(i), i.p.module, path.join(work, "synth", i.p.module));
      expect(res.latches).toBe(0);
      expect(res.totalCells).toBeGreaterThan(0);
      const dffs = Object.entries(res.cells)
        .filter(([c]) => /dff/i.test(c))
        .reduce((a, [, v]) => a + v, 0);
      // out_valid + out_tag + out_sel, nothing else is registered (k = E: out_sel is constant)
      expect(dffs).toBe(1 + i.p.tagBits + (i.p.mode === "all" ? 0 : i.p.E));
    }
  });

  for (const sim of SIMS) {
    describe(sim, () => {
      let built: Built;
      beforeAll(async () => {
        built = await buildSim(sim, paths, tbModule, work);
      });
      for (const seed of seeds) {
        it(`matches the golden topk on every vector (seed ${seed})`, async () => {
          const dir = path.join(work, `data_${sim}_${seed}`);
          const st = writeTopkStimulus(dir, insts, seed);
          insts.forEach((i, n) => {
            expect(st.vectors[n]).toBe(vectorCount(i));
            // ties must be common, and decide the selection often when 1 < k+1 <= E
            if (i.p.E > 1) expect(st.withTies[n] / st.vectors[n]).toBeGreaterThan(i.kind === "random" ? 0.4 : 0.1);
            if (i.kind === "random" && i.p.k < i.p.E) expect(st.tieDecided[n] / st.vectors[n]).toBeGreaterThan(0.2);
          });
          const res = await runSimExpectPass(built, [`+data=${dir}`], seed);
          const seen = res.lines.find((l) => l.startsWith("VECTORS "))!.slice(8).split(" ").map(Number);
          expect(seen).toEqual(st.vectors);
          expect(simValue(res, "CYCLES")).toBeGreaterThan(Math.max(...st.vectors));
        });
      }
      it("fails loudly when one expected mask is wrong", async () => {
        const dir = path.join(work, `data_${sim}_broken`);
        writeTopkStimulus(dir, insts, 41);
        const idx = insts.indexOf(main);
        const f = path.join(dir, `tk${idx}.exp.hex`);
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        // move one selection to an unselected expert: still k ones, just the wrong set
        const w = BigInt("0x" + lines[123]);
        const on = [...Array(main.p.E).keys()].find((b) => (w >> BigInt(b)) & 1n)!;
        const off = [...Array(main.p.E).keys()].find((b) => !((w >> BigInt(b)) & 1n))!;
        lines[123] = (w ^ (1n << BigInt(on)) ^ (1n << BigInt(off))).toString(16);
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`], 41);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(new RegExp(`MISMATCH ${main.p.module} #123`));
      });
    });
  }
});
