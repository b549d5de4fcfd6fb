/** Top-k router golden: ranking, ties, per-step and per-token routing. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { route, selMask, topk } from "../../generator/blocks/topkRouter/golden.ts";

describe("topk", () => {
  it("larger score first", () => {
    expect(topk([3, 1, 4, 2], 2)).toEqual([2, 0]);
    expect(topk([-5, -1, -3], 1)).toEqual([1]);
  });
  it("equal scores: lower index wins", () => {
    expect(topk([3, 1, 3, 2], 2)).toEqual([0, 2]);
    expect(topk([5, 5, 5, 5], 2)).toEqual([0, 1]);
    expect(topk([0, 7, 7, 7], 2)).toEqual([1, 2]);
  });
  it("k = E selects everything, best first", () => {
    expect(topk([5, 5, 5, 5], 4)).toEqual([0, 1, 2, 3]);
    expect(topk([1, 9, 4], 3)).toEqual([1, 2, 0]);
  });
  it("rejects k out of range", () => {
    expect(() => topk([1, 2], 3)).toThrow(/k = 3/);
  });
  it("selMask", () => {
    expect(selMask([3, 1, 3, 2], 2)).toEqual([1, 0, 1, 0]);
    expect(selMask([0, 0, 0], 3)).toEqual([1, 1, 1]);
  });
  it("property: selected scores dominate; ties resolved towards low indices", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 8 }), fc.nat(), (z, kr) => {
        const k = 1 + (kr % z.length);
        const sel = topk(z, k);
        expect(new Set(sel).size).toBe(k);
        for (let e = 0; e < z.length; e++) {
          if (sel.includes(e)) continue;
          for (const s of sel) expect(z[s] > z[e] || (z[s] === z[e] && s < e)).toBe(true);
        }
      }),
    );
  });
});

describe("route", () => {
  // T = 2, N = 1, E = 3
  const zs = [[[10, 0, 0]], [[0, 6, 6]]];
  it("per-step ranks every (t, n)", () => {
    expect(route(zs, 2, "per-step")).toEqual([[[1, 1, 0]], [[0, 1, 1]]]);
  });
  it("per-token ranks the sum over t once, same experts for every t", () => {
    // sums [10, 6, 6] -> experts 0 and 1
    expect(route(zs, 2, "per-token")).toEqual([[[1, 1, 0]], [[1, 1, 0]]]);
    expect(route(zs, 1, "per-token")).toEqual([[[1, 0, 0]], [[1, 0, 0]]]);
  });
  it("per-token uses the exact sum, per token", () => {
    // token 0: sums [40000, 40001]; token 1: [-2, -2]
    const z = [
      [[20000, 20000], [-1, -1]],
      [[20000, 20001], [-1, -1]],
    ];
    expect(route(z, 1, "per-token")).toEqual([
      [[0, 1], [1, 0]],
      [[0, 1], [1, 0]],
    ]);
  });
});
