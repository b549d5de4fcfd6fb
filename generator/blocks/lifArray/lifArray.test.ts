/**
 * lifArray end to end: golden model -> stimulus/expected files -> RTL on Icarus and
 * Verilator, every spike compared; plus lint, synthesis (no latch) and a check that
 * the testbench does fail on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import { resolveInput, type ResolvedLif } from "../../config/resolve.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { lifArrayParams } from "./lifArray.ts";
import { renderLifTb, writeLifStimulus, type LifTbInstance, type XStyle } from "./testbench.ts";

const r = resolveInput({ name: "lt", model: { dim: 8, heads: 2, tokens: 4, timesteps: 2 } });
const base = r.lif.shortcut;
const lif = (over: Partial<ResolvedLif>): ResolvedLif => ({ ...base, ...over });

/** Every SPEC 1.1 variant, each its own array in one testbench. */
const variants: [string, ResolvedLif, number, number][] = [
  // tag, lif, neurons, lanes
  ["dflt", lif({}), 24, 4],
  ["nodecay", lif({ decayInput: false }), 24, 4],
  ["gt", lif({ fire: ">" }), 24, 4],
  ["sub", lif({ reset: "subtract" }), 24, 4],
  ["tau3", lif({ tauShift: 3, threshold: 30 }), 10, 3],
  ["tau0", lif({ tauShift: 0, decayInput: false, threshold: 5 }), 10, 3],
  ["sat6", lif({ stateBits: 6, threshold: 20, reset: "subtract", xBits: 12 }), 16, 8],
  ["satnd", lif({ stateBits: 5, threshold: 9, decayInput: false, tauShift: 2, fire: ">", xBits: 10 }), 16, 8],
  ["negthr", lif({ stateBits: 8, threshold: -5, reset: "subtract", decayInput: false, tauShift: 2, xBits: 8 }), 8, 4],
  ["onegrp", lif({ threshold: 3, reset: "subtract", xBits: 6 }), 3, 4],
];
const insts: LifTbInstance[] = variants.map(([tag, l, n, lanes]) => ({ p: lifArrayParams(r, l, tag, n, lanes), label: tag, T: 6 }));
// valid-bit arrays (LIF_h style: not every neuron updated at every timestep, no in_first)
insts.push({ p: lifArrayParams(r, lif({ threshold: 40, xBits: 8 }), "vbits", 20, 4, true), label: "vbits", T: 7 });
insts.push({ p: lifArrayParams(r, lif({ threshold: 3, reset: "subtract", xBits: 5 }), "vbits1", 2, 4, true), label: "vbits1", T: 7 });
const files = renderLifTb(r, "lt_lifArray_tb", insts);
const work = buildDir("test", "lifArray");
const paths = files.map((f) => path.join(work, f.path));
const styles: [number, XStyle][] = [
  [11, "random"],
  [12, "extreme"],
  [13, "small"],
  [14, "zeros"],
  [15, "small"],
];

beforeAll(() => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
});

describe("lifArray RTL", () => {
  it("lints clean with verilator -Wall", async () => {
    for (const i of insts) {
      const rtl = files.filter((f) => f.kind === "rtl" && f.path.startsWith(i.p.module)).map((f) => path.join(work, f.path));
      const res = await verilatorLint(rtl, i.p.module);
      expect(res.warnings, res.output).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    for (const i of insts.slice(0, 2).concat(insts.slice(6, 9), insts.slice(-1))) {
      const rtl = files.filter((f) => f.kind === "rtl" && f.path.startsWith(i.p.module)).map((f) => path.join(work, f.path));
      const res = await yosysSynth(rtl, i.p.module, path.join(work, "synth", i.p.module));
      expect(res.latches).toBe(0);
      expect(res.totalCells).toBeGreaterThan(0);
    }
  });

  for (const sim of SIMS) {
    describe(sim, () => {
      let built: Built;
      beforeAll(async () => {
        built = await buildSim(sim, paths, "lt_lifArray_tb", work);
      });
      for (const [seed, style] of styles) {
        it(`matches the golden model bit for bit (seed ${seed}, ${style} inputs)`, async () => {
          const dir = path.join(work, `data_${sim}_${seed}`);
          const st = writeLifStimulus(dir, insts, seed, style);
          if (style !== "zeros") expect(st.spikes).toBeGreaterThan(0);
          await runSimExpectPass(built, [`+data=${dir}`], seed);
        });
      }
      it("fails loudly when one expected spike is wrong", async () => {
        const dir = path.join(work, `data_${sim}_broken`);
        writeLifStimulus(dir, insts, 21, "random");
        const f = path.join(dir, "lif3.exp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[5] = (BigInt("0x" + lines[5]) ^ 1n).toString(16);
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`], 21);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH lt_lifArray_sub/);
      });
    });
  }
});
