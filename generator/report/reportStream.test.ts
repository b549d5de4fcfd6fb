/**
 * `st3d report` of tiny with the weights streamed (hardware.weightsOnChip false), views 2d and
 * memory-on-logic only (the other two add nothing to what is tested here): the on-chip weight
 * storage is the two halves of the global weight buffer (bits = hardware.weightBuffer, their
 * synthesized areas, on the top die in memory-on-logic), at least 10x fewer bits than tiny's
 * resident banks; model.offchip is the run's traffic (every routed layer once, the golden
 * routing's bytes), the DRAM term of every view is those bytes / 8 x the cited constant; the
 * JSON is the same on a second run; report.html shows the table and the traffic in headless
 * Chromium.  Slow the first time (synthesis of the streamed design, one Verilator run, two
 * OpenSTA runs), cached afterwards.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../config/load.ts";
import { resolve } from "../config/resolve.ts";
import { report, type ReportResult } from "./flow.ts";
import { reportFiles, summaryText, writeReport } from "./write.ts";
import { checkPage, chromiumAvailable } from "../html/browser.ts";
import { DRAM_ENERGY_64 } from "./constants.ts";

const VIEWS = ["2d", "memory-on-logic"] as const;
const u = loadConfig("tiny");
const st = () => resolve(parseConfig({ ...u, hardware: { ...u.hardware, weightsOnChip: false } }, "tiny (weights streamed)"));
const opts = { density: 0.15, seed: 1, views: VIEWS, command: "st3d report tiny-streamed (test)" };

describe("st3d report tiny, weights streamed from off-chip", () => {
  let res: ReportResult;
  let dir: string;
  beforeAll(async () => {
    res = await report(st(), opts);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-report-ws-"));
    writeReport(path.join(dir, "rep"), res);
  }, 3_600_000);

  it("the weight storage is the buffer halves: bits, synthesized areas, die, share of the footprint", () => {
    const j = res.json;
    const r = st();
    const on = resolve(u);
    expect(j.model.weightsOnChip).toBe(false);
    for (const v of VIEWS) {
      const x = j.views[v]!;
      const w = x.weightStore;
      expect(w.placement).toBe("buffer");
      expect(w.instances.map((i) => i.inst)).toEqual(["u_mem_p_wb0", "u_mem_p_wb1"]);
      expect(w.bits).toBe(2 * r.hw.weights.halfDepth * r.hw.weights.wordBits);
      expect(w.bits).toBe(r.hw.weights.bufferBits);
      // the must-show of issue #17: weight SRAM on chip cut by at least 10x (tiny: 12288 -> 1024 bits)
      expect(on.hw.weights.imageWords * on.hw.weights.wordBits).toBeGreaterThanOrEqual(10 * w.bits);
      for (const i of w.instances) {
        const b = j.blocks.find((y) => y.inst === i.inst)!;
        expect(i.macroAreaUm2).toBeCloseTo(b.macroAreaUm2, 0);
        expect(i.cellAreaUm2).toBeCloseTo(b.cellAreaUm2, 0);
        expect(i.cellAreaUm2).toBeGreaterThan(0);
        // 16 x 32 = 512 bits < macroMinBits 4096: flip-flops, no macro area
        expect(i.impl).toBe("flip-flops");
        expect(i.tier).toBe(x.tiers[i.inst]);
        expect(x.dies.find((d) => d.name === i.die)!.blocks.find((y) => y.inst === i.inst)!.areaUm2).toBe(i.areaUm2);
      }
      expect(w.macroAreaUm2).toBe(0);
      expect(w.footprintShare).toBeCloseTo(w.areaUm2 / x.footprintUm2, 4);
      expect(w.footprintShare).toBeGreaterThan(0);
      // no bank in the netlist
      expect(Object.keys(x.tiers).filter((i) => /^u_mem_p_wp/.test(i))).toEqual([]);
    }
    expect(j.views["memory-on-logic"]!.weightStore.dies.map((d) => d.die)).toEqual(["top"]);
  });

  it("model.offchip is the run's traffic; the DRAM term of every view is its bytes x the cited constant", () => {
    const j = res.json;
    const o = j.model.offchip!;
    expect(o).not.toBeNull();
    const r = st();
    expect(o.beatBits).toBe(r.hw.weights.beatBits);
    expect(o.bytesRead).toBe((o.beats * o.beatBits) / 8);
    expect(o.bytesRead).toBeGreaterThan(0);
    expect(o.modelWeightBytes).toBe((r.hw.weights.imageWords * r.hw.weights.wordBits) / 8);
    // every used layer fetched once: at most the whole image (unrouted experts are skipped)
    expect(o.weightBytes).toBeLessThanOrEqual(o.modelWeightBytes);
    expect(o.bytesRead).toBeCloseTo(o.weightBytes * (1 + o.padding), 6);
    expect(o.memBandwidthBytesPerCycle).toBe(16);
    expect(o.memLatencyCycles).toBe(100);
    for (const v of VIEWS) {
      const e = j.views[v]!.energy;
      expect(e.dram.bytes).toBe(o.bytesRead);
      expect(e.breakdownPj.dram).toBeCloseTo((o.bytesRead / 8) * DRAM_ENERGY_64.value, 1);
      expect(e.breakdownPj.sram + e.breakdownPj.logic + e.breakdownPj.wiresBetween + e.breakdownPj.wiresInside + e.breakdownPj.leakage + e.breakdownPj.dram).toBeCloseTo(e.totalPj, 0);
    }
    expect(summaryText(res)).toMatch(new RegExp(`weights streamed: ${o.bytesRead} bytes read off chip`));
  });

  it("the same JSON and page on a second run", async () => {
    const again = await report(st(), opts);
    expect(JSON.stringify(again.json)).toBe(JSON.stringify(res.json));
    expect(reportFiles(again).find((f) => f.path === "report.html")!.content).toBe(reportFiles(res).find((f) => f.path === "report.html")!.content);
  }, 3_600_000);

  it.runIf(chromiumAvailable())("report.html shows the weight storage and the off-chip traffic in headless Chromium", async () => {
    const c = await checkPage(path.join(dir, "rep", "report.html"), ["table.weight-store tr", "#offchip-traffic tr", "#energy-chart rect.bar[data-series=dram]"]);
    expect(c.errors).toEqual([]);
    expect(c.external).toEqual([]);
    expect(c.counts["table.weight-store tr"]).toBe(VIEWS.length + 1);
    expect(c.counts["#offchip-traffic tr"]).toBe(9);
    expect(c.counts["#energy-chart rect.bar[data-series=dram]"]).toBe(VIEWS.length);
  }, 120_000);
});
