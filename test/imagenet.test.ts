/**
 * The ImageNet-scale config of issue #17 (configs/imagenet.yaml: T 4, N 196, D 768, H 12, L 8,
 * E 4, k 2, F 3072, weights off chip): `st3d validate`, `st3d generate` and `st3d lint`
 * (verilator --lint-only -Wall on every top) succeed, and the design has what that scale needs:
 * 72 phase counters in ctrl (8 blocks x 9 phases, beyond Verilator's loop unrolling: see
 * ./ctrlCounters.test.ts for their values through the host port), the AXI4 weight port, no
 * per-block weight bank.  One block of it runs end to end in scripts/bench-imagenet.ts
 * (docs/BENCH.md), not here: it simulates about 15 M cycles.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";

const ST3D = path.resolve("bin/st3d.js");
const CFG = path.resolve("configs/imagenet.yaml");
const st3d = (args: string[]) => execa("node", [ST3D, ...args], { reject: false, all: true });

describe("configs/imagenet.yaml (issue #17, ImageNet scale)", () => {
  it("is the issue's model, with the weights off chip and the default weight buffer", () => {
    const r = resolve(loadConfig(CFG));
    expect({ T: r.T, N: r.N, D: r.D, H: r.H, L: r.L, E: r.E, k: r.k, F: r.F }).toEqual({ T: 4, N: 196, D: 768, H: 12, L: 8, E: 4, k: 2, F: 3072 });
    const w = r.hw.weights;
    expect(w.onChip).toBe(false);
    expect(w.bufferBits).toBe(w.workingSetBits);
    // the largest pool layer is fc2 (tilesD x F words) and one half of the buffer holds it
    expect(w.largestLayer.name).toBe("fc2");
    expect(w.largestLayer.words).toBe(r.geo.tilesD * r.F);
    expect(w.halfDepth).toBeGreaterThanOrEqual(w.largestLayer.words);
  });

  it("validates, generates and lints -Wall clean (every top)", async () => {
    const v = await st3d(["validate", CFG]);
    expect(v.exitCode, v.all).toBe(0);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "st3d-imagenet-")), "rtl");
    const g = await st3d(["generate", CFG, "-o", out]);
    expect(g.exitCode, g.all).toBe(0);
    const n = "st3d_imagenet";
    const ctrl = fs.readFileSync(path.join(out, `${n}_ctrl.v`), "utf8");
    expect(ctrl).toMatch(/for \(gc = 0; gc <= 71; gc = gc \+ 1\) begin : g_pcnt/);
    expect(ctrl).not.toMatch(/pcnt\[ci\]/);
    const top = fs.readFileSync(path.join(out, `${n}_top.v`), "utf8");
    expect(top).toMatch(/input\s+wire\s+\[127:0\]\s+wm_rdata\b/);
    expect(top).not.toMatch(/_mem_wp\d/);
    const lint = await st3d(["lint", out]);
    expect(lint.exitCode, lint.all).toBe(0);
    expect(lint.all).toMatch(/lint: 4 top\(s\), \d+ files, 0 warnings/);
  }, 240_000);
});

describe("configs/default-streamed.yaml (the default preset with its weights streamed)", () => {
  it("is the default preset's model and hardware but for weightsOnChip, with the default buffer", () => {
    const on = resolve(loadConfig("default"));
    const st = resolve(loadConfig(path.resolve("configs/default-streamed.yaml")));
    expect(st.hw.weights.onChip).toBe(false);
    expect(on.hw.weights.onChip).toBe(true);
    expect(st.hw.weights.bufferBits).toBe(st.hw.weights.workingSetBits);
    const shape = (r: typeof on) => ({ T: r.T, N: r.N, D: r.D, H: r.H, L: r.L, E: r.E, k: r.k, F: r.F, attention: r.attention, routing: r.routing, weightBits: r.weightBits, lif: r.lif });
    expect(shape(st)).toEqual(shape(on));
    expect(st.hw.poolLanes).toBeGreaterThan(0);
    expect({ ...st.hw, weights: undefined }).toEqual({ ...on.hw, weights: undefined });
  });
});
