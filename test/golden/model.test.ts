/** Whole-model golden: hand-built scenarios (expert state retention, routing modes), random models, speed. */
import { describe, expect, it } from "vitest";
import type { Resolved } from "../../generator/config/resolve.ts";
import { runGolden, TRACE_STAGES, type Model } from "../../generator/model/golden.ts";
import { randomModel } from "../../generator/model/tensors.ts";
import { resolveModelOnly } from "./helpers.ts";

/**
 * T = 3, N = 1, D = 1, H = 1, E = 2, k = 1, F = 1. Shortcut LIFs have tauShift 0 (S = U >= 64),
 * o is zero so U1 = U0, S1 = [1, 0, 1]. Router: z = [5*s1, 1] -> expert 0 at t = 0, 2 and expert 1 at t = 1 (per-step).
 * Expert 0: fc1 = 40 always, LIF_h (tau 2, threshold 30): 20 at t = 0, then (state kept over t = 1) 20 + 10 = 30 -> spike at t = 2.
 * fc2 of expert 0 adds 100 * spike. Expert 1 never spikes and adds its bias 0.
 */
function scenario(routing: "per-step" | "per-token"): { r: Resolved; model: Model; U0: number[][][] } {
  const r = resolveModelOnly({
    model: {
      timesteps: 3, tokens: 1, dim: 1, heads: 1, blocks: 1, experts: 2, topK: 1, expertHidden: 1, routing,
      lif: { shortcut: { threshold: 64, tauShift: 0 }, hidden: { threshold: 30 } },
    },
    hardware: { synapticLanes: 2, tokenGroup: 1, lifLanes: 1 },
  });
  const L = (w: number, b: number) => ({ weight: [[w]], bias: [b] });
  const model: Model = {
    blocks: [
      {
        q: L(0, 0), k: L(0, 0), v: L(0, 0), o: L(0, 0),
        router: { weight: [[5], [0]], bias: [0, 1] },
        experts: [
          { fc1: L(0, 40), fc2: L(100, 0) },
          { fc1: L(0, 0), fc2: L(100, 0) },
        ],
      },
    ],
  };
  return { r, model, U0: [[[100]], [[0]], [[100]]] };
}

describe("expert LIF state", () => {
  it("per-step: LIF_h[e] keeps its state while e is not selected", () => {
    const { r, model, U0 } = scenario("per-step");
    const res = runGolden(r, model, U0);
    expect(res.trace["blocks.0.s1"]).toEqual([[[1]], [[0]], [[1]]]);
    expect(res.trace["blocks.0.z"]).toEqual([[[5, 1]], [[0, 1]], [[5, 1]]]);
    expect(res.trace["blocks.0.sel"]).toEqual([[[1, 0]], [[0, 1]], [[1, 0]]]);
    // state kept at 20 over t = 1, so G = 30 at t = 2 -> spike -> +100
    expect(res.out).toEqual([[[100]], [[0]], [[200]]]);
    expect(res.stats.routed).toBe(3);
    expect(res.stats.perLayer[0].routedPerExpert).toEqual([2, 1]);
    expect(res.stats.perLayer[0].spikes.h).toBe(1);
  });
  it("per-token: the sum over t picks one expert for all timesteps", () => {
    const { r, model, U0 } = scenario("per-token");
    const res = runGolden(r, model, U0);
    // sums: [10, 3] -> expert 0 at every t; LIF_h: 20, 30 (spike, reset), 20
    expect(res.trace["blocks.0.sel"]).toEqual([[[1, 0]], [[1, 0]], [[1, 0]]]);
    expect(res.out).toEqual([[[100]], [[100]], [[100]]]);
  });
  it("states start at 0 for every inference (runGolden is repeatable)", () => {
    const { r, model, U0 } = scenario("per-step");
    expect(runGolden(r, model, U0)).toEqual(runGolden(r, model, U0));
  });
});

describe("residual saturation", () => {
  it("U1 and U2 saturate at residBits, the expert sum is exact before that", () => {
    const { r: r0, model, U0 } = scenario("per-step");
    const r = resolveModelOnly({ ...r0.user, model: { ...r0.user.model, residBits: 8, topK: 2 } });
    // k = E = 2: both experts at every step; expert 1 adds its fc2 bias -100 every step
    model.blocks[0].experts[1].fc2.bias = [-100];
    model.blocks[0].o.bias = [50]; // U1 = sat8(U0 + 50)
    const res = runGolden(r, model, U0);
    expect(res.trace["blocks.0.u1"]).toEqual([[[127]], [[50]], [[127]]]);
    // expert 0 is now selected every step: LIF_h 20, 30 (spike, reset), 20 -> y0 = 0, 100, 0
    // t = 1: U2 = sat8(50 + 100 - 100) = 50 exactly (clamping the partial sum 150 first would give 27)
    expect(res.out).toEqual([[[27]], [[50]], [[27]]]);
  });
});

describe("random models", () => {
  const r = resolveModelOnly({ model: { timesteps: 4, tokens: 16, dim: 64, heads: 4, blocks: 2, experts: 4, topK: 2, expertHidden: 64 } });
  it("are deterministic in the seed", () => {
    expect(randomModel(r, 3, 0.1)).toEqual(randomModel(r, 3, 0.1));
    expect(randomModel(r, 3, 0.1)).not.toEqual(randomModel(r, 4, 0.1));
  });
  for (const density of [0.05, 0.15, 0.3])
    it(`steer the driven LIF arrays to about density ${density}`, () => {
      const { model, input } = randomModel(r, 11, density);
      const res = runGolden(r, model, input);
      for (const b of res.stats.perLayer)
        for (const st of ["s0", "q", "k", "v", "s1", "h"] as const) {
          const got = b.spikes[st] / b.neurons[st];
          expect(got, `block ${b.block} ${st}: ${got.toFixed(3)}`).toBeGreaterThan(density / 2.5);
          expect(got, `block ${b.block} ${st}: ${got.toFixed(3)}`).toBeLessThan(density * 2.5);
        }
      // trace covers every stage of every block with the right shapes
      for (let b = 0; b < r.L; b++)
        for (const s of TRACE_STAGES) {
          const x = res.trace[`blocks.${b}.${s}`];
          expect([x.length, x[0].length, x[0][0].length]).toEqual([r.T, r.N, s === "z" || s === "sel" ? r.E : r.D]);
        }
      expect(res.stats.routed).toBe(r.L * r.T * r.N * r.k);
    });
  it("work counts add up", () => {
    const { model, input } = randomModel(r, 5, 0.15);
    const res = runGolden(r, model, input);
    let syn = 0;
    for (const b of res.stats.perLayer) {
      expect(b.syn.q).toBe(b.spikes.s0 * r.D);
      expect(b.syn.o).toBe(b.spikes.o * r.D);
      expect(b.syn.router).toBe(b.spikes.s1 * r.E);
      expect(b.syn.fc2).toBe(b.spikes.h * r.D);
      syn += Object.values(b.syn).reduce((a, x) => a + x, 0);
    }
    expect(res.stats.syn).toBe(syn);
  });
});

describe("scale", () => {
  // the golden model's speed is a benchmark figure (docs/BENCH.md), not a timed test; this only
  // checks that the cifar shape runs through and keeps its invariants
  it("runs the cifar shape (T=4, N=64, D=384, H=12, L=4, E=4, k=2, F=384)", () => {
    const r = resolveModelOnly({ model: { timesteps: 4, tokens: 64, dim: 384, heads: 12, blocks: 4, experts: 4, topK: 2, expertHidden: 384 } });
    const { model, input } = randomModel(r, 1, 0.15);
    const res = runGolden(r, model, input);
    expect(res.out.length).toBe(4);
    expect(res.out[0].length).toBe(64);
    expect(res.out[0][0].length).toBe(384);
    expect(res.stats.routed).toBe(4 * 4 * 64 * 2);
  }, 120_000);
});
