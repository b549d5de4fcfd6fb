/** Attention goldens: SSA (Spikformer) and SDSA (Spike-driven Transformer), one timestep. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sdsa, ssa } from "../../generator/blocks/attentionCore/golden.ts";
import { lifStep, type LifParams } from "../../generator/blocks/lifArray/golden.ts";
import { asr, sat } from "../../generator/util/bits.ts";

const lif0: LifParams = { threshold: 1, tauShift: 0, decayInput: true, fire: ">=", reset: "zero", stateBits: 16 };
const zeros = (n: number, d: number) => Array.from({ length: n }, () => new Array<number>(d).fill(0));

describe("ssa", () => {
  // N = 2, D = 2, H = 2 -> d = 1
  const Q = [[1, 0], [1, 1]];
  const K = [[1, 1], [0, 1]];
  const V = [[1, 0], [1, 1]];
  it("d = 1, hand computed", () => {
    // head 0: A = [[1,0],[1,0]] -> Y[.][0] = V[0][0] = 1 for both queries
    // head 1: A = [[0,0],[1,1]] -> Y[0][1] = 0, Y[1][1] = V[0][1] + V[1][1] = 1
    const st = zeros(2, 2);
    expect(ssa(Q, K, V, 2, 0, 16, lif0, st)).toEqual([[1, 0], [1, 1]]);
    expect(st).toEqual([[0, 0], [0, 0]]);
  });
  it("attnShift shifts Y before LIF_attn", () => {
    const st = zeros(2, 2);
    expect(ssa(Q, K, V, 2, 1, 16, lif0, st)).toEqual([[0, 0], [0, 0]]); // 1 >> 1 = 0
  });
  it("LIF_attn state is carried by the caller across timesteps", () => {
    const p: LifParams = { ...lif0, tauShift: 1, threshold: 2 };
    // N = 1, D = 2, H = 1 (d = 2), all ones: A = 2, Y = 2 per channel
    const one = [[1, 1]];
    const st = zeros(1, 2);
    expect(ssa(one, one, one, 1, 0, 16, p, st)).toEqual([[0, 0]]); // G = 2 >> 1 = 1
    expect(st).toEqual([[1, 1]]);
    expect(ssa(one, one, one, 1, 0, 16, p, st)).toEqual([[0, 0]]); // G = 1 + (1 >> 1) = 1
    const big = { ...p, threshold: 1 };
    expect(ssa(one, one, one, 1, 0, 16, big, st)).toEqual([[1, 1]]);
    expect(st).toEqual([[0, 0]]);
  });
  it("saturates the shifted sum at accBits", () => {
    // N = 4, D = 4, H = 1: A = 4, Y = 16 per channel; accBits 4 -> 7
    const ones = Array.from({ length: 4 }, () => [1, 1, 1, 1]);
    const p: LifParams = { ...lif0, reset: "subtract", threshold: 0 };
    const st = zeros(4, 4);
    ssa(ones, ones, ones, 1, 0, 4, p, st);
    expect(st[0]).toEqual([7, 7, 7, 7]); // G = 7, reset subtract threshold 0 -> W = 7
  });
  it("equals Q (K^T V) computed independently (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.nat(), (N, H, d, shift, seed) => {
        const D = H * d;
        let x = seed + 1;
        const bit = () => ((x = (x * 1103515245 + 12345) % 2 ** 31), (x >> 7) & 1);
        const M = () => Array.from({ length: N }, () => Array.from({ length: D }, bit));
        const [Q, K, V] = [M(), M(), M()];
        const p: LifParams = { threshold: 2, tauShift: 1, decayInput: true, fire: ">=", reset: "subtract", stateBits: 8 };
        const st = zeros(N, D);
        const st2 = zeros(N, D);
        for (let rep = 0; rep < 2; rep++) {
          const O = ssa(Q, K, V, H, shift, 5, p, st);
          const exp = zeros(N, D);
          for (let h = 0; h < H; h++) {
            // KtV[a][c] = sum_j K[j][h*d+a] * V[j][h*d+c]
            const KtV = zeros(d, d);
            for (let j = 0; j < N; j++) for (let a = 0; a < d; a++) for (let c = 0; c < d; c++) KtV[a][c] += K[j][h * d + a] * V[j][h * d + c];
            for (let i = 0; i < N; i++)
              for (let c = 0; c < d; c++) {
                let y = 0;
                for (let a = 0; a < d; a++) y += Q[i][h * d + a] * KtV[a][c];
                const r = lifStep(st2[i][h * d + c], sat(asr(y, shift), 5), p);
                st2[i][h * d + c] = r.W;
                exp[i][h * d + c] = r.S;
              }
          }
          expect(O).toEqual(exp);
          expect(st).toEqual(st2);
        }
      }),
    );
  });
});

describe("sdsa", () => {
  it("O = Q & OR_j(K & V)", () => {
    const Q = [[1, 1, 0], [0, 1, 1]];
    const K = [[1, 0, 1], [0, 1, 0]];
    const V = [[1, 1, 0], [0, 0, 1]];
    // K & V: [1,0,0], [0,0,0] -> kv = [1,0,0]
    expect(sdsa(Q, K, V, 1)).toEqual([[1, 0, 0], [0, 0, 0]]);
  });
  it("kv is an OR over all tokens", () => {
    const Q = [[1, 1], [1, 1]];
    const K = [[1, 0], [0, 1]];
    const V = [[1, 0], [0, 1]];
    expect(sdsa(Q, K, V)).toEqual([[1, 1], [1, 1]]);
  });
});
