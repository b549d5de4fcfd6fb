/** Linear golden (SPEC §1.2): accumulate where s = 1, exact sum, one saturation. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { linear, linearStats } from "../../generator/blocks/linearEngine/golden.ts";
import { sat } from "../../generator/util/bits.ts";

describe("linear", () => {
  it("adds the weights of active inputs to the bias", () => {
    expect(linear([1, 0, 1], [[1, 2, 3], [-5, 7, -9]], [10, 0], 16)).toEqual([14, -14]);
    expect(linear([0, 0, 0], [[1, 2, 3], [-5, 7, -9]], [10, -3], 16)).toEqual([10, -3]);
  });
  it("saturates once at accBits", () => {
    // accBits 4: range -8..7
    expect(linear([1, 1], [[3, 3]], [5], 4)).toEqual([7]); // 11 -> 7
    expect(linear([1, 1], [[-5, -5]], [-2], 4)).toEqual([-8]); // -12 -> -8
  });
  it("the sum is exact before the saturation (no intermediate clamping)", () => {
    // running saturation would give sat(sat(7+5)-6) = 1; the exact sum is 6
    expect(linear([1, 1], [[5, -6]], [7], 4)).toEqual([6]);
    expect(linear([1, 1, 1], [[-100, -100, 150]], [57], 8)).toEqual([7]);
  });
  it("equals the dense formula (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 2, max: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (inp, out, accBits, seed) => {
          let x = seed;
          const rnd = (m: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), (x % (2 * m + 1)) - m);
          const s = Array.from({ length: inp }, () => Math.abs(rnd(1)));
          const w = Array.from({ length: out }, () => Array.from({ length: inp }, () => rnd(128)));
          const b = Array.from({ length: out }, () => rnd(30000));
          const dense = w.map((row, o) => sat(row.reduce((a, wi, c) => a + wi * s[c], b[o]), accBits));
          expect(linear(s, w, b, accBits)).toEqual(dense);
        },
      ),
    );
  });
});

describe("linearStats", () => {
  it("synaptic ops = input spikes x output width", () => {
    expect(linearStats([1, 0, 1, 1], 5)).toEqual({ inputSpikes: 3, syn: 15 });
    expect(linearStats([0, 0], 5)).toEqual({ inputSpikes: 0, syn: 0 });
  });
});
