/** LIF golden (SPEC §1.1): hand-computed cases for every variant, plus properties. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { lifRun, lifStep, type LifParams } from "../../generator/blocks/lifArray/golden.ts";
import { asr } from "../../generator/util/bits.ts";

const base: LifParams = { threshold: 64, tauShift: 1, decayInput: true, fire: ">=", reset: "zero", stateBits: 16 };
const P = (o: Partial<LifParams>): LifParams => ({ ...base, ...o });

describe("asr", () => {
  it("is a floor shift for negative values", () => {
    expect(asr(-3, 1)).toBe(-2);
    expect(asr(-1, 1)).toBe(-1);
    expect(asr(-700, 3)).toBe(-88);
    expect(asr(3, 1)).toBe(1);
  });
});

describe("lifStep, decayInput = true", () => {
  it("tauShift 1: G = W + ((X - W) >> 1), hard reset", () => {
    expect(lifStep(0, 100, base)).toEqual({ S: 0, W: 50 });
    expect(lifStep(50, 100, base)).toEqual({ S: 1, W: 0 }); // G = 75
  });
  it("tauShift 1 equals floor((W + X) / 2)", () => {
    for (const [W, X] of [[0, 7], [5, -8], [-3, 0], [-7, -8], [63, 64]])
      expect(lifStep(W, X, P({ threshold: 1000 })).W).toBe(Math.floor((W + X) / 2));
  });
  it("tauShift 0: G = X", () => {
    expect(lifStep(10, 5, P({ tauShift: 0 }))).toEqual({ S: 0, W: 5 });
    expect(lifStep(10, 64, P({ tauShift: 0 }))).toEqual({ S: 1, W: 0 });
  });
  it("tauShift 3", () => {
    expect(lifStep(0, 100, P({ tauShift: 3 }))).toEqual({ S: 0, W: 12 });
    expect(lifStep(12, 100, P({ tauShift: 3 }))).toEqual({ S: 0, W: 23 }); // 12 + (88 >> 3)
    expect(lifStep(0, -3, P({ tauShift: 3 }))).toEqual({ S: 0, W: -1 }); // floor(-3/8)
  });
  it("negative inputs use the floor shift", () => {
    expect(lifStep(0, -3, base)).toEqual({ S: 0, W: -2 }); // asr(-3, 1) = -2
    expect(lifStep(-2, -3, base)).toEqual({ S: 0, W: -3 }); // -2 + asr(-1, 1)
  });
});

describe("lifStep, decayInput = false", () => {
  const p = P({ decayInput: false });
  it("tauShift 1: G = (W >> 1) + X", () => {
    expect(lifStep(0, 40, p)).toEqual({ S: 0, W: 40 });
    expect(lifStep(40, 40, p)).toEqual({ S: 0, W: 60 });
    expect(lifStep(60, 40, p)).toEqual({ S: 1, W: 0 }); // 70
    expect(lifStep(-3, 0, p)).toEqual({ S: 0, W: -2 });
  });
  it("tauShift 3: G = ((7 W) >> 3) + X, floor for negatives", () => {
    expect(lifStep(100, 0, P({ decayInput: false, tauShift: 3, threshold: 88 }))).toEqual({ S: 0, W: 87 });
    expect(lifStep(100, 0, P({ decayInput: false, tauShift: 3 }))).toEqual({ S: 1, W: 0 });
    expect(lifStep(-100, 0, P({ decayInput: false, tauShift: 3 }))).toEqual({ S: 0, W: -88 });
  });
  it("tauShift 0: no memory, G = X", () => {
    expect(lifStep(50, 3, P({ decayInput: false, tauShift: 0 }))).toEqual({ S: 0, W: 3 });
  });
});

describe("fire and reset", () => {
  it("'>=' fires at G == threshold, '>' does not", () => {
    expect(lifStep(0, 128, base)).toEqual({ S: 1, W: 0 });
    expect(lifStep(0, 128, P({ fire: ">" }))).toEqual({ S: 0, W: 64 });
    expect(lifStep(0, 130, P({ fire: ">" }))).toEqual({ S: 1, W: 0 });
  });
  it("reset subtract keeps G - threshold", () => {
    expect(lifStep(50, 100, P({ reset: "subtract" }))).toEqual({ S: 1, W: 11 });
    expect(lifStep(0, 300, P({ reset: "subtract", tauShift: 0 }))).toEqual({ S: 1, W: 236 });
  });
  it("negative threshold", () => {
    expect(lifStep(0, 0, P({ threshold: -1 }))).toEqual({ S: 1, W: 0 });
    expect(lifStep(0, -2, P({ threshold: -1, reset: "subtract", tauShift: 0 }))).toEqual({ S: 0, W: -2 });
  });
});

describe("saturation at stateBits", () => {
  it("clamps G before the comparison and the reset", () => {
    const p = P({ stateBits: 8, tauShift: 0, threshold: 100, reset: "subtract" });
    expect(lifStep(0, 1000, p)).toEqual({ S: 1, W: 27 }); // G = 127
    expect(lifStep(0, -1000, p)).toEqual({ S: 0, W: -128 });
    expect(lifStep(127, 127, P({ stateBits: 8, threshold: 127, fire: ">" }))).toEqual({ S: 0, W: 127 });
  });
  it("decayInput false saturates the sum", () => {
    const p = P({ stateBits: 8, decayInput: false, threshold: 127, fire: ">" });
    expect(lifStep(127, 127, p)).toEqual({ S: 0, W: 127 }); // 63 + 127 = 190 -> 127
    expect(lifStep(-128, -128, p)).toEqual({ S: 0, W: -128 });
  });
});

describe("lifRun", () => {
  it("carries state across timesteps, per neuron", () => {
    const r = lifRun([[100, 0], [100, 200], [100, 0]], base);
    expect(r.spikes).toEqual([[0, 0], [1, 1], [0, 0]]);
    expect(r.states).toEqual([[50, 0], [0, 0], [50, 0]]);
  });
});

describe("properties", () => {
  // SpikingJelly LIF (tau = 2, v_reset = 0 / None, v_threshold = th) in floating point.
  function floatLif(xs: number[], th: number, decayInput: boolean, soft: boolean): number[] {
    let v = 0;
    return xs.map((x) => {
      v = decayInput ? v + (x - v) / 2 : v - v / 2 + x;
      const s = v >= th ? 1 : 0;
      if (s) v = soft ? v - th : 0;
      return s;
    });
  }
  const train = fc.array(fc.integer({ min: -300, max: 300 }), { minLength: 1, maxLength: 12 });
  for (const decayInput of [true, false])
    for (const reset of ["zero", "subtract"] as const)
      it(`tauShift 1 spikes equal the float SpikingJelly model (decayInput ${decayInput}, reset ${reset})`, () => {
        fc.assert(
          fc.property(train, fc.integer({ min: 1, max: 200 }), (xs, th) => {
            const p = P({ threshold: th, decayInput, reset, stateBits: 24 });
            const got = lifRun(xs.map((x) => [x]), p).spikes.map((s) => s[0]);
            expect(got).toEqual(floatLif(xs, th, decayInput, reset === "subtract"));
          }),
          { numRuns: 3000 },
        );
      });
  it("state always fits stateBits, spikes are 0/1", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20 }),
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.integer({ min: -(2 ** 21), max: 2 ** 21 }), { minLength: 1, maxLength: 8 }),
        (bits, tau, di, gt, xs) => {
          const hi = 2 ** (bits - 1) - 1;
          const lo = -(2 ** (bits - 1));
          const p = P({ stateBits: bits, tauShift: tau, decayInput: di, fire: gt ? ">" : ">=", reset: "zero", threshold: hi >> 1 });
          let W = 0;
          for (const x of xs) {
            const r = lifStep(W, x, p);
            expect(r.S === 0 || r.S === 1).toBe(true);
            expect(r.W).toBeGreaterThanOrEqual(lo);
            expect(r.W).toBeLessThanOrEqual(hi);
            W = r.W;
          }
        },
      ),
    );
  });
});
