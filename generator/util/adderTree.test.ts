import { describe, expect, it } from "vitest";
import { Prng } from "./prng.ts";
import { adderTree, busBits } from "./adderTree.ts";
import { clog2, unsignedBitsFor } from "./bits.ts";

/** Width and value of an operand as printed (a leaf, a node name, or `{ {k{1'b0}}, x }`). */
function operand(e: string, width: Map<string, number>, value: Map<string, number>): { w: number; v: number } {
  const m = /^\{ \{(\d+)\{1'b0\}\}, (.+) \}$/.exec(e);
  if (m) {
    const x = operand(m[2], width, value);
    return { w: Number(m[1]) + x.w, v: x.v };
  }
  if (!width.has(e)) throw new Error(`operand ${e} used before it is declared`);
  return { w: width.get(e)!, v: value.get(e)! };
}

describe("adderTree", () => {
  it("is a balanced popcount tree with exact node widths, for n = 1..17", () => {
    const rng = new Prng(7);
    for (let n = 1; n <= 17; n++) {
      const leaves = busBits("x", n);
      const t = adderTree(leaves, "pc");
      expect(t.nodes.length, `n=${n}`).toBe(n - 1);
      expect(t.levels, `n=${n}`).toBe(clog2(n));
      expect(t.root.cap).toBe(n);
      expect(t.root.bits).toBe(unsignedBitsFor(n));
      const names = t.nodes.map((x) => x.name);
      expect(new Set(names).size).toBe(names.length);
      for (const x of t.nodes) {
        expect(x.name).toMatch(/^pc\d+_\d+$/);
        expect(x.bits).toBe(unsignedBitsFor(x.cap));
        expect(x.msb).toBe(x.bits - 1);
        expect(x.level).toBeGreaterThanOrEqual(1);
        expect(x.level).toBeLessThanOrEqual(t.levels);
      }
      if (n === 1) expect(t.root.expr).toBe("x[0]");
      else expect(t.root.expr).toBe(t.nodes[t.nodes.length - 1].name);
      // evaluate the printed tree on random leaves: every operand is declared first and is
      // exactly as wide as its node, and the root is the number of ones
      for (let trial = 0; trial < 20; trial++) {
        const width = new Map<string, number>();
        const value = new Map<string, number>();
        let ones = 0;
        for (const l of leaves) {
          const b = trial === 0 ? 1 : rng.bit(0.5);
          ones += b;
          width.set(l, 1);
          value.set(l, b);
        }
        for (const x of t.nodes) {
          const a = operand(x.a, width, value);
          const b = operand(x.b, width, value);
          expect(a.w, `${x.name}.a`).toBe(x.bits);
          expect(b.w, `${x.name}.b`).toBe(x.bits);
          const v = a.v + b.v;
          expect(v).toBeLessThanOrEqual(x.cap);
          width.set(x.name, x.bits);
          value.set(x.name, v);
        }
        expect(operand(t.root.expr, width, value)).toEqual({ w: t.root.bits, v: ones });
      }
    }
  });

  it("prints the nodes of a 5-leaf tree", () => {
    const t = adderTree(["a", "b", "c", "d", "e"], "s");
    expect(t.nodes.map((x) => `${x.name}[${x.msb}:0]=${x.a}+${x.b}`)).toEqual([
      "s1_0[1:0]={ {1{1'b0}}, a }+{ {1{1'b0}}, b }",
      "s1_1[1:0]={ {1{1'b0}}, c }+{ {1{1'b0}}, d }",
      "s2_0[2:0]={ {1{1'b0}}, s1_0 }+{ {1{1'b0}}, s1_1 }",
      "s3_0[2:0]=s2_0+{ {2{1'b0}}, e }",
    ]);
    expect(t.root).toEqual({ expr: "s3_0", bits: 3, cap: 5 });
    expect(t.levels).toBe(3);
  });

  it("rejects no leaves and a prefix that is not an identifier", () => {
    expect(() => adderTree([], "pc")).toThrow(/no leaves/);
    expect(() => adderTree(["a"], "1pc")).toThrow(/prefix/);
    expect(() => busBits("x", 0)).toThrow(/busBits/);
  });
});
