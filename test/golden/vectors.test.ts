/** The golden model against the reference vectors (outside oracle): output, every trace tensor, stats. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runGolden, TRACE_STAGES } from "../../generator/model/golden.ts";
import { loadInput, loadModelDir } from "../../generator/model/tensors.ts";
import { readNpy } from "../../generator/util/npy.ts";
import { resolveModelOnly, VECTORS } from "./helpers.ts";

for (const p of ["p1", "p2", "p3"]) {
  describe(`reference vector ${p}`, () => {
    const dir = path.join(VECTORS, p);
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    const r = resolveModelOnly(cfg);
    const model = loadModelDir(r, path.join(dir, "weights"));
    const U0 = loadInput(r, path.join(dir, "input.npy"));
    const res = runGolden(r, model, U0);

    it("reproduces expected.npy exactly", () => {
      const exp = readNpy(path.join(dir, "expected.npy"));
      expect(exp.shape).toEqual([r.T, r.N, r.D]);
      expect(res.out.flat(2)).toEqual(exp.data);
    });

    it("reproduces every trace tensor exactly", () => {
      const files = fs.readdirSync(path.join(dir, "trace")).filter((f) => f.endsWith(".npy"));
      expect(files.length).toBe(r.L * TRACE_STAGES.length);
      expect(Object.keys(res.trace).sort()).toEqual(files.map((f) => f.replace(/\.npy$/, "")).sort());
      for (const f of files) {
        const key = f.replace(/\.npy$/, "");
        const exp = readNpy(path.join(dir, "trace", f));
        const got = res.trace[key];
        expect([got.length, got[0].length, got[0][0].length], key).toEqual(exp.shape);
        expect(got.flat(2), key).toEqual(exp.data);
      }
    });

    it("matches stats.json (syn, spikes, routed, nonzero_out)", () => {
      const st = JSON.parse(fs.readFileSync(path.join(dir, "stats.json"), "utf8"));
      expect(res.stats.syn).toBe(st.syn);
      expect(res.stats.spikes).toBe(st.spikes);
      expect(res.stats.routed).toBe(st.routed);
      expect(res.stats.nonzeroOut).toBe(st.nonzero_out);
    });
  });
}
