/** Weight-stream golden reader: what a read returns, the off-chip word, the AXI4 burst rule. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { burstsOf, imageWord, streamRead } from "../../generator/blocks/weightStream/golden.ts";

describe("weightStream golden", () => {
  it("a read returns the layer's word; reads outside the layer are refused", () => {
    const layers = [[5n], [6n, 7n, 8n]];
    expect(streamRead(layers, 1, 2)).toBe(8n);
    expect(streamRead(layers, 0, 0)).toBe(5n);
    expect(() => streamRead(layers, 0, 1)).toThrow(/outside layer 0/);
    expect(() => streamRead(layers, 2, 0)).toThrow(/no layer 2/);
  });

  it("an off-chip word is its K beats, little-endian, cut to wordBits", () => {
    // 20-bit words in 8-bit beats: K = 3, the last beat's high 4 bits are padding
    const beats = [0x99n, 0x34n, 0x12n, 0xfbn, 0x56n, 0x34n, 0xf2n];
    expect(imageWord(beats, 1, 0, 20, 8)).toBe(0xb1234n);
    expect(imageWord(beats, 4, 0, 20, 8)).toBe(0x23456n);
    expect(imageWord([0xabcdn], 0, 0, 16, 16)).toBe(0xabcdn);
    expect(() => imageWord(beats, 5, 0, 20, 8)).toThrow(/past the image/);
  });

  it("bursts: in address order, covering the fetch, each as long as allowed (maxBurst, the 4 KB page)", () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 4, 16, 64, 128), fc.nat(3 * 4096), fc.integer({ min: 1, max: 700 }), fc.constantFrom(1, 16, 256), (bb, b0, beats, maxB) => {
        const base = Math.floor(b0 / bb) * bb;
        let a = base;
        let left = beats;
        for (const b of burstsOf(base, beats, bb, maxB)) {
          expect(b.addr).toBe(a);
          expect(b.beats).toBe(Math.min(left, maxB, (4096 - (a % 4096)) / bb));
          expect(Math.floor(b.addr / 4096)).toBe(Math.floor((b.addr + b.beats * bb - 1) / 4096));
          a += b.beats * bb;
          left -= b.beats;
        }
        expect(left).toBe(0);
      }),
    );
    expect(burstsOf(4096 - 32, 4, 16, 256)).toEqual([{ addr: 4064, beats: 2 }, { addr: 4096, beats: 2 }]);
    expect(burstsOf(0, 600, 4, 256).map((b) => b.beats)).toEqual([256, 256, 88]);
    expect(burstsOf(0, 600, 16, 256).map((b) => b.beats)).toEqual([256, 256, 88]);
    expect(burstsOf(0, 300, 128, 256).map((b) => b.beats)).toEqual([32, 32, 32, 32, 32, 32, 32, 32, 32, 12]);
  });
});
