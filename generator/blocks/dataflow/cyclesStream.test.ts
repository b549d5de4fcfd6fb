/**
 * The streamed-weights estimate of the cycle model (dataflowCyclesStreamed, no simulation):
 * it never beats the exact on-chip model, a slower or later memory never makes it faster, the
 * layers are fetched in the pool's order of use through two halves (a descriptor waits for the
 * layer before the previous one), every used layer once, and the waits it adds are its waitW.
 * The estimate against the RTL's measured cycles: scripts/bench-stream.ts (docs/BENCH.md).
 */
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../../config/load.ts";
import { resolve } from "../../config/resolve.ts";
import { randomModel } from "../../model/tensors.ts";
import { runGolden } from "../../model/golden.ts";
import { dataflowParams } from "./dataflow.ts";
import { dataflowCycles, dataflowCyclesStreamed, dataflowWork, engineRun } from "./cycles.ts";

const u = loadConfig("tiny");
const st = resolve(parseConfig({ ...u, hardware: { ...u.hardware, weightsOnChip: false } }, "tiny streamed"));
const on = resolve(u);
const { model, input } = randomModel(on, 5, 0.2);
const work = dataflowWork(on, model, runGolden(on, model, input).trace);
const exact = dataflowCycles(dataflowParams(on), work);
const w = st.hw.weights;
const est = (latency: number, bytesPerCycle: number) => dataflowCyclesStreamed(dataflowParams(st), work, { latency, bytesPerCycle, beatBits: w.beatBits, beatsPerWord: w.beatsPerWord });

describe("dataflowCyclesStreamed (estimate)", () => {
  it("an engine whose words have all arrived runs as on chip", () => {
    const rows = [3, 0, 5, 2, 7, 1].map((k) => ({ spikes: k, gate: -Infinity }));
    expect(engineRun(10, 10, rows, 2, 4, { fanin: 8, arrival: () => -Infinity })).toEqual(engineRun(10, 10, rows, 2, 4));
    const late = engineRun(10, 10, rows, 2, 4, { fanin: 8, arrival: (a) => 100 + a });
    expect(late.classes.waitW).toBeGreaterThan(0);
    expect(late.done - engineRun(10, 10, rows, 2, 4).done).toBe(late.classes.waitW);
  });

  it("never below the exact on-chip model; slower or later memory never faster; waits = waitW", () => {
    expect(exact.stream).toBeUndefined();
    let prev = 0;
    for (const [lat, bw] of [[0, 64], [0, 4], [100, 4], [100, 1], [300, 0.5]] as const) {
      const e = est(lat, bw);
      expect(e.total).toBeGreaterThanOrEqual(exact.total);
      expect(e.total).toBeGreaterThanOrEqual(prev);
      prev = e.total;
      expect(e.pool.waitW).toBe(e.stream!.reduce((a, l) => a + l.waitW, 0));
      expect(e.pool.work).toBe(exact.pool.work);
    }
    expect(est(300, 0.5).pool.waitW).toBeGreaterThan(0);
  });

  it("fetches every used layer once, in order of use, at most one layer ahead", () => {
    const e = est(100, 16);
    const layers = e.stream!;
    const used = work.reduce((a, b) => a + 4 + 2 * b.experts.length, 0);
    expect(layers).toHaveLength(used);
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i];
      expect(l.dataStart).toBeGreaterThanOrEqual(l.take + 1 + 100);
      expect(l.dataEnd).toBeGreaterThanOrEqual(l.dataStart + l.words * w.beatsPerWord - 1);
      if (i > 0) expect(l.dataStart).toBeGreaterThan(layers[i - 1].dataEnd);
      if (i > 1) expect(l.take).toBeGreaterThan(layers[i - 2].useEnd);
    }
    expect(e.total).toBeGreaterThan(layers[layers.length - 1].dataEnd);
  });
});
