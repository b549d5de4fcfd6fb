/**
 * ctrl's phase counters (one per block and dataflow phase, PHASE_BASE + b*9 + p - 1) read back
 * through the host port by `st3d run` equal the exact cycle model
 * (generator/blocks/dataflow/cycles.ts) for every block and phase, on Icarus and Verilator, with
 * many blocks: 29 blocks give 261 counters, more than Verilator unrolls (a reset loop over them
 * failed lint, BLKLOOPINIT) and more than 256, so a counter's index is r_idx - PHASE_BASE, not
 * r_idx's low bits (which read counter 256 for block 0's first phase).  Weights on chip: there
 * the cycle model is exact.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { runGolden } from "../generator/model/golden.ts";
import { randomModel, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { st3dRun } from "../generator/run/run.ts";
import { SIMS } from "../generator/sim/harness.ts";
import { dataflowCycles, dataflowWork } from "../generator/blocks/dataflow/cycles.ts";
import { DATAFLOW_PHASES, dataflowParams } from "../generator/blocks/dataflow/dataflow.ts";
import { PERF_CLASSES } from "../generator/blocks/linearEngine/linearEngine.ts";
import { phaseIdxExpr } from "../generator/blocks/ctrl/ctrl.ts";

// the smallest of everything but the blocks: Icarus simulates 29 blocks at a few hundred cycles/s
const r = resolve(
  parseConfig(
    {
      name: "st3d_ctrl29",
      model: { timesteps: 1, tokens: 2, dim: 4, heads: 1, blocks: 29, experts: 2, topK: 1, expertHidden: 4, lif: { attn: { threshold: 1 } } },
      hardware: { synapticLanes: 4, tokenGroup: 2, lifLanes: 2, attnCores: 1 },
    },
    "ctrlCounters.test.ts",
  ),
);

describe("ctrl phase counters with 29 blocks (261 counters) match the cycle model", () => {
  it("the counter index: r_idx's low bits up to 256 counters, less PHASE_BASE's low bits beyond", () => {
    expect(phaseIdxExpr(7)).toBe("r_idx[6:0]");
    expect(phaseIdxExpr(8)).toBe("r_idx[7:0]");
    expect(phaseIdxExpr(9)).toBe("r_idx[8:0] - 9'd256");
    expect(phaseIdxExpr(10)).toBe("r_idx[9:0] - 10'd256");
  });

  for (const sim of SIMS)
    it(`${sim}: output = golden, every (block, phase) counter, the perf classes and the cycles = the cycle model`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `st3d-ctrl29-${sim}-`));
      const { model, input } = randomModel(r, 5, 0.3);
      writeModelDir(r, model, path.join(dir, "weights"));
      writeInput(r, input, path.join(dir, "input.npy"));
      const g = runGolden(r, model, input);
      const m = dataflowCycles(dataflowParams(r), dataflowWork(r, model, g.trace));
      const res = await st3dRun(r, { weights: path.join(dir, "weights"), input: path.join(dir, "input.npy"), out: path.join(dir, "out"), sim, check: true });
      expect(res.output.flat(2)).toEqual(g.out.flat(2));
      expect(res.json.check?.match, JSON.stringify(res.json.check?.first)).toBe(true);
      const j = res.json;
      expect(j.perBlock).toHaveLength(29);
      const got = j.perBlock.map((b) => b.phaseCycles);
      const want = m.perBlock.map((ph) => Object.fromEntries(DATAFLOW_PHASES.map((p) => [p, ph[p]])));
      expect(got).toEqual(want);
      // the counters differ from block to block (else a wrong index could still agree)
      expect(new Set(got.map((x) => JSON.stringify(x))).size).toBeGreaterThan(1);
      // ctrl counts its start and done cycles too
      expect(j.cycles).toBe(m.total + 2);
      for (const c of PERF_CLASSES) {
        expect(j.engines!.pool.cycles[c], `pool ${c}`).toBe(m.pool[c]);
        expect(j.engines!.router.cycles[c], `router ${c}`).toBe(m.router[c]);
      }
    }, 600_000);
});
