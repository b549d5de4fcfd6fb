/**
 * attentionUnit (+ attentionCore + LIF_attn lifArray) end to end: golden ssa/sdsa -> per-run
 * Q/K/V rows and expected O rows -> RTL on Icarus and Verilator, every O bit compared over
 * several timesteps; cycle counts against the cycle model; lint, synthesis (no latch), and a
 * check that the testbench fails on a wrong expectation.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it, beforeAll } from "vitest";
import { resolveInput } from "../../config/resolve.ts";
import type { UserConfigInput } from "../../config/schema.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, simValue, SIMS, type Built } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { attentionCycleModel, attentionCycles, attentionParams, renderAttention } from "./attentionCore.ts";
import { attnTbShape, renderAttentionTb, writeAttentionStimulus, type AttnTbShape, type SpikeStyle } from "./testbench.ts";

const cfg = (name: string, model: NonNullable<UserConfigInput["model"]>, attnCores: number): UserConfigInput => ({ name, model, hardware: { attnCores } });

const shapes: AttnTbShape[] = [
  // C = H, attnShift > 0
  attnTbShape(resolveInput(cfg("aa", { dim: 8, heads: 2, tokens: 6, timesteps: 3, attnShift: 1, lif: { attn: { threshold: 2 } } }, 2))),
  // H = 3 on C = 2 (second pass half idle), accBits 4 saturates (N*d = 15 > 7), soft reset, two LIF sets
  attnTbShape(
    resolveInput(cfg("ab", { dim: 9, heads: 3, tokens: 5, timesteps: 3, accBits: 4, lif: { attn: { threshold: 3, stateBits: 6, reset: "subtract" } } }, 2)),
    { lifSets: 2 },
  ),
  // d = 1 (D = H), H = 4 on C = 3, attnShift 1, no input decay, fire ">"
  attnTbShape(resolveInput(cfg("ac", { dim: 4, heads: 4, tokens: 5, timesteps: 3, attnShift: 1, lif: { attn: { threshold: 0, decayInput: false, fire: ">" } } }, 3))),
  // N = 1, one core for two heads, accBits 2 (saturates at 1), tauShift 0
  attnTbShape(resolveInput(cfg("ad", { dim: 6, heads: 2, tokens: 1, timesteps: 3, accBits: 2, lif: { attn: { threshold: 1, tauShift: 0 } } }, 1))),
  // sdsa, H = 3 on C = 2
  attnTbShape(resolveInput(cfg("ae", { dim: 12, heads: 3, tokens: 5, timesteps: 2, attention: "sdsa" }, 2))),
  // sdsa, N = 1, d = 1, C = H
  attnTbShape(resolveInput(cfg("af", { dim: 4, heads: 4, tokens: 1, timesteps: 2, attention: "sdsa" }, 4))),
];
const tbModule = "attn_tb";
const files = renderAttentionTb(tbModule, shapes);
const work = buildDir("test", "attentionCore");
const paths = files.map((f) => path.join(work, f.path));
const seeds: [number, SpikeStyle][] = [
  [1, "random"],
  [2, "dense"],
  [3, "zeros"],
  [4, "ones"],
  [5, "mixed"],
  [6, "sparse"],
  [7, "random"],
  [8, "mixed"],
];

beforeAll(() => {
  for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
});

describe("attention parameters and cycle model", () => {
  it("derives passes, memories and the cycle model", () => {
    const [aa, ab, ac, ad, ae, af] = shapes.map((s) => s.p);
    expect([aa, ab, ac, ad, ae, af].map((p) => p.passes)).toEqual([1, 2, 2, 2, 2, 1]);
    // one LIF_attn state memory per core: depth lifSets * P * N, d lanes of stateBits
    expect(ab.memories.map(({ mem: m }) => [m.module, m.depth, m.width])).toEqual([
      ["ab_attn_la0_state", 2 * 2 * 5, 3 * 6],
      ["ab_attn_la1_state", 2 * 2 * 5, 3 * 6],
    ]);
    expect(ae.memories).toEqual([]);
    expect(aa.cycles).toBe(6 + 1 * 36 + 5);
    expect(ab.cycles).toBe(5 + 2 * 25 + 5);
    expect(ae.cycles).toBe(5 + 2 * 5 + 2);
    expect(attentionCycles({ mode: "ssa", N: 64, passes: 1 })).toBe(64 + 4096 + 5);
    expect(attentionCycleModel(ab).perInference).toBe(3 * 2 * ab.cycles);
    // default config: 12 heads on 12 cores, 64 tokens
    const p = attentionParams(resolveInput({ name: "dflt" }));
    expect([p.passes, p.d, p.yBits, p.memories.length, p.memories[0].mem.depth, p.memories[0].mem.width]).toEqual([1, 32, 12, 12, 64, 32 * 16]);
  });
});

describe("attention RTL", () => {
  it("lints clean with verilator -Wall (unit + cores + LIF_attn array)", async () => {
    for (const s of shapes) {
      const rtl = renderAttention(s.r, s.p).map((f) => path.join(work, f.path));
      const res = await verilatorLint(rtl, s.p.unitModule);
      expect(res.warnings, res.output).toEqual([]);
    }
    // lint-only shapes: the default config, T = 1 with 3 passes and 4 LIF sets (ssa and sdsa)
    const extra: [UserConfigInput, number][] = [
      [{ name: "lx0" }, 1],
      [cfg("lx1", { heads: 12, timesteps: 1, tokens: 2 }, 5), 4],
      [cfg("lx2", { heads: 12, timesteps: 1, tokens: 2, attention: "sdsa" }, 5), 4],
    ];
    for (const [c, lifSets] of extra) {
      const r = resolveInput(c);
      const p = attentionParams(r, { lifSets });
      const dir = buildDir("test", "attentionCore", "lint", r.name);
      const rtl = renderAttention(r, p).map((f) => {
        fs.writeFileSync(path.join(dir, f.path), f.content);
        return path.join(dir, f.path);
      });
      const res = await verilatorLint(rtl, p.unitModule);
      expect(res.warnings, res.output).toEqual([]);
    }
  });

  it("synthesizes in Yosys with no latch", async () => {
    for (const s of [shapes[1], shapes[4]]) {
      const rtl = renderAttention(s.r, s.p).map((f) => path.join(work, f.path));
      // flattened: Yosys 0.23 "stat -json" prints malformed JSON for a 3-level hierarchy
      const res = await yosysSynth(rtl, s.p.unitModule, path.join(work, "synth", s.p.unitModule), { flatten: true });
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
        it(`matches the golden model bit for bit, cycle model exact (seed ${seed}, ${style} spikes)`, async () => {
          const dir = path.join(work, `data_${sim}_${seed}`);
          const st = writeAttentionStimulus(dir, shapes, seed, style);
          if (style === "zeros") expect(st.spikes).toBe(0);
          else expect(st.spikes).toBeGreaterThan(0);
          if (style === "ones" || style === "dense") expect(st.saturated).toBeGreaterThan(0);
          const res = await runSimExpectPass(built, [`+data=${dir}`], seed);
          for (const s of shapes) {
            expect(simValue(res, `CYCLESRUN ${s.p.unitModule}`)).toBe(s.p.cycles);
            expect(simValue(res, `CYCLES ${s.p.unitModule}`)).toBe(s.runs.length * s.p.cycles);
          }
        });
      }
      it("fails loudly when one expected O bit is wrong", async () => {
        const dir = path.join(work, `data_${sim}_broken`);
        writeAttentionStimulus(dir, shapes, 21, "random");
        const f = path.join(dir, "ab.exp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[7] = (BigInt("0x" + lines[7]) ^ 0x10n).toString(16);
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`], 21);
        expect(res.pass).toBe(false);
        expect(res.code).not.toBe(0);
        expect(res.output).toMatch(/MISMATCH ab_attentionUnit run 1 .* token 2/);
      });
    });
  }
});
