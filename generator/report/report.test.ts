/**
 * `st3d report tiny` end to end (all four views): report.json keys, identical on a second
 * run, footprint = max tier area, bonds = the bond map's count, every constant with a source,
 * the energy breakdown adds up, the ORFS hand-off folders, and report.html in headless
 * Chromium (no console error, no request, one bar per block and view, one floorplan per die,
 * one latency bar per path and view).  Slow (synthesis, one Verilator run, four OpenSTA runs;
 * everything cached in the shared cache afterwards).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.ts";
import { resolve } from "../config/resolve.ts";
import { report, VIEWS, type ReportResult } from "./flow.ts";
import { reportFiles, writeReport } from "./write.ts";
import { checkPage, chromiumAvailable } from "../html/browser.ts";

const KEYS = ["footprintUm2", "siliconUm2", "cellAreaUm2", "macroAreaUm2", "wirelengthUm", "bonds", "bondBudget", "fmaxMHz", "feffMHz", "memLatencyPs", "energyPerInferenceNj", "powerMw", "pjPerSop"];

describe("st3d report tiny", () => {
  let res: ReportResult;
  let dir: string;
  beforeAll(async () => {
    const r = resolve(loadConfig("tiny"));
    res = await report(r, { density: 0.15, seed: 1, command: "st3d report tiny (test)" });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-report-"));
    writeReport(path.join(dir, "rep"), res);
  }, 3_600_000);

  it("has every key of every view, and the same JSON on a second run", async () => {
    const j = res.json;
    expect(Object.keys(j.views)).toEqual([...VIEWS]);
    for (const v of VIEWS) for (const k of KEYS) expect(j.views[v], `${v}.${k}`).toHaveProperty(k);
    for (const k of ["config", "hash", "tools", "constants"]) expect(j).toHaveProperty(k);
    for (const v of VIEWS) for (const k of ["placement", "bits", "macroAreaUm2", "cellAreaUm2", "areaUm2", "footprintShare", "dies", "instances"]) expect(j.views[v]!.weightStore, `${v}.weightStore.${k}`).toHaveProperty(k);
    expect(j.model.matchesGolden).toBe(true);
    const again = await report(resolve(loadConfig("tiny")), { density: 0.15, seed: 1, command: "st3d report tiny (test)" });
    expect(JSON.stringify(again.json)).toBe(JSON.stringify(j));
    expect(reportFiles(again).find((f) => f.path === "report.html")!.content).toBe(reportFiles(res).find((f) => f.path === "report.html")!.content);
  }, 3_600_000);

  it("footprint = the larger tier, silicon = footprint × dies, areas add up", () => {
    for (const v of VIEWS) {
      const x = res.json.views[v]!;
      const maxTier = Math.max(...x.dies.map((d) => d.usedUm2));
      expect(x.footprintUm2, v).toBeCloseTo(maxTier, 0);
      expect(x.siliconUm2).toBeCloseTo(x.footprintUm2 * (v === "2d" ? 1 : 2), 0);
      expect(x.dies.length).toBe(v === "2d" ? 1 : 2);
      expect(x.cellAreaUm2).toBeCloseTo(res.json.views["2d"]!.cellAreaUm2, 0);
      expect(x.dies.reduce((a, d) => a + d.cellAreaUm2 + d.macroAreaUm2, 0)).toBeCloseTo(x.cellAreaUm2 + x.macroAreaUm2, 0);
    }
  });

  it("weights on chip: the weight storage is the pool's banks, with their synthesized areas, on the die of their tier", () => {
    const j = res.json;
    const r = resolve(loadConfig("tiny"));
    expect(j.model.weightsOnChip).toBe(true);
    expect(j.model.offchip).toBeNull();
    for (const v of VIEWS) {
      const x = j.views[v]!;
      const w = x.weightStore;
      expect(w.placement).toBe("banks");
      // one bank per block, every pool word of the block: the whole model's pool weights
      expect(w.instances.map((i) => i.inst)).toEqual([...Array(r.L).keys()].map((b) => `u_mem_p_wp${b}`));
      expect(w.bits).toBe(r.hw.weights.imageWords * r.hw.weights.wordBits);
      for (const i of w.instances) {
        const b = j.blocks.find((y) => y.inst === i.inst)!;
        expect(i.macroAreaUm2, i.inst).toBeCloseTo(b.macroAreaUm2, 0);
        expect(i.cellAreaUm2, i.inst).toBeCloseTo(b.cellAreaUm2, 0);
        expect(i.impl).toBe(b.macroAreaUm2 > 0 ? "sram" : "flip-flops");
        expect(i.tier).toBe(x.tiers[i.inst]);
        const die = x.dies.find((d) => d.name === i.die)!;
        expect(die.tier).toBe(i.tier);
        expect(die.blocks.find((y) => y.inst === i.inst)!.areaUm2).toBe(i.areaUm2);
      }
      expect(w.instances.some((i) => i.impl === "sram")).toBe(true); // 192 x 32 bits > macroMinBits
      expect(w.areaUm2).toBeCloseTo(w.instances.reduce((a, i) => a + i.areaUm2, 0), 0);
      expect(w.footprintShare).toBeCloseTo(w.areaUm2 / x.footprintUm2, 4);
      expect(w.footprintShare).toBeGreaterThan(0);
      expect(w.footprintShare).toBeLessThanOrEqual(1);
      expect(w.dies.reduce((a, d) => a + d.areaUm2, 0)).toBeCloseTo(w.areaUm2, 0);
    }
    // memory-on-logic: the global buffers / banks sit on the top die
    expect(j.views["memory-on-logic"]!.weightStore.dies.map((d) => d.die)).toEqual(["top"]);
    expect(j.views["2d"]!.weightStore.dies.map((d) => d.die)).toEqual(["2d"]);
  });

  it("bonds = the bond map's count; within the budget", () => {
    for (const v of VIEWS.filter((x) => x !== "2d")) {
      const bm = JSON.parse(fs.readFileSync(path.join(dir, "rep", "views", v, "3d", "bond_map.json"), "utf8"));
      const x = res.json.views[v]!;
      expect(x.bonds, v).toBe(bm.bonds);
      expect(x.bonds).toBe(bm.nets.reduce((a: number, n: { width: number }) => a + n.width, 0));
      expect(x.bonds).toBeGreaterThan(0);
      // budget = floor(footprint x usable / pitch^2) (tiny: pitch 1 um, usable 0.5); the JSON footprint is rounded to 0.1 um^2
      expect(Math.abs(x.bondBudget - Math.floor((x.footprintUm2 * 0.5) / 1))).toBeLessThanOrEqual(1);
      expect(x.bonds).toBeLessThan(x.bondBudget);
    }
    expect(res.json.views["2d"]!.bonds).toBe(0);
  });

  it("every constant has a value, a unit and a source", () => {
    const cs = res.json.constants;
    expect(cs.length).toBeGreaterThan(20);
    for (const c of cs) {
      expect(typeof c.name).toBe("string");
      expect(Number.isFinite(c.value), c.name).toBe(true);
      expect(c.unit.length, c.name).toBeGreaterThan(0);
      expect(c.source.length, c.name).toBeGreaterThan(8);
    }
    expect(new Set(cs.map((c) => c.name)).size).toBe(cs.length);
  });

  it("energy breakdown adds up; power = energy / time at f_eff; latency paths are consistent", () => {
    for (const v of VIEWS) {
      const x = res.json.views[v]!;
      const b = x.energy.breakdownPj;
      expect(b.dram).toBe(0); // weights on chip: no off-chip term
      expect(b.sram + b.logic + b.wiresBetween + b.wiresInside + b.leakage + b.dram).toBeCloseTo(x.energy.totalPj, 0);
      expect(x.energyPerInferenceNj).toBeCloseTo(x.energy.totalPj / 1000, 2);
      expect(x.powerMw).toBeCloseTo((x.energy.totalPj * 1e-12) / (x.energy.cycles / (x.feffMHz * 1e6)) / 1e-3, 2);
      expect(x.memLatency.paths.length).toBe(res.json.views["2d"]!.memLatency.paths.length);
      expect(x.memLatency.paths.length).toBeGreaterThan(0);
      for (const p of x.memLatency.paths) expect(p.bond).toBe(x.tiers[p.memory] !== x.tiers[p.consumer]);
    }
    // memory-on-logic puts every buffer across the bond from its consumer
    expect(res.json.views["memory-on-logic"]!.memLatency.paths.every((p) => p.bond)).toBe(true);
  });

  it("writes an ORFS design folder per die next to partition.txt and the 3Dblox package", () => {
    for (const v of VIEWS) {
      const vd = path.join(dir, "rep", "views", v);
      const dies = v === "2d" ? ["st3d_tiny_top"] : ["st3d_tiny_tier_bottom", "st3d_tiny_tier_top"];
      for (const die of dies) {
        const mk = fs.readFileSync(path.join(vd, "orfs", die, "config.mk"), "utf8");
        expect(mk).toMatch(new RegExp(`DESIGN_NAME = ${die}\\b`));
        expect(fs.readFileSync(path.join(vd, "orfs", die, "constraint.sdc"), "utf8")).toMatch(/create_clock -name \$clk_name -period \$clk_period/);
        // every VERILOG_FILES entry exists in the view folder, and no macro stub is among them
        const files = [...mk.matchAll(/\$\(ST3D_VIEW_DIR\)\/(\S+)/g)].map((m) => m[1]);
        expect(files.length).toBeGreaterThan(1);
        for (const f of files) {
          expect(fs.existsSync(path.join(vd, f)), f).toBe(true);
          expect(f).not.toMatch(/^macros\//);
        }
        // the macro lists follow macros.json of the die's tier
        const tier = v === "2d" ? "bottom" : die.endsWith("_top") ? "top" : "bottom";
        const mj = JSON.parse(fs.readFileSync(path.join(vd, "macros", tier, "macros.json"), "utf8"));
        for (const m of mj.macros) {
          expect(mk).toContain(`${m.macro}.lef`);
          expect(mk).toContain(`${m.macro}.lib`);
        }
        if (!mj.macros.length) expect(mk).not.toContain("ADDITIONAL_LEFS");
      }
      if (v !== "2d") for (const f of ["3d/partition.txt", "3d/st3d_tiny.3dbv", "3d/st3d_tiny.3dbx", "3d/bond_map.json"]) expect(fs.existsSync(path.join(vd, f)), f).toBe(true);
    }
  });

  it.runIf(chromiumAvailable())("report.html opens in headless Chromium: no error, no request, the plots are there", async () => {
    const html = path.join(dir, "rep", "report.html");
    const j = res.json;
    const blocks = j.blocks.map((b) => b.inst);
    const dies = VIEWS.reduce((a, v) => a + j.views[v]!.dies.length, 0);
    const paths = j.views["2d"]!.memLatency.paths.length;
    const sel = ["svg.floorplan", "#latency-chart rect.bar", "#area-chart rect.bar", "table.weight-store tr", "#offchip-traffic", ...blocks.map((b) => `#area-chart rect.bar[data-series="${b}"]:not([data-value="0"])`)];
    const shot = process.env.ST3D_REPORT_SCREENSHOT;
    const c = await checkPage(html, sel, shot ? { screenshot: shot } : {});
    expect(c.errors).toEqual([]);
    expect(c.external).toEqual([]);
    expect(c.counts["svg.floorplan"]).toBe(dies);
    expect(dies).toBe(7);
    expect(c.counts["#latency-chart rect.bar"]).toBe(paths * VIEWS.length);
    // one bar per block and view: a block sits on exactly one die of every view
    for (const b of blocks) expect(c.counts[`#area-chart rect.bar[data-series="${b}"]:not([data-value="0"])`], b).toBe(VIEWS.length);
    expect(c.counts["table.weight-store tr"]).toBe(VIEWS.length + 1);
    expect(c.counts["#offchip-traffic"]).toBe(0);
    expect(c.title).toMatch(/st3d report: st3d_tiny/);
  }, 120_000);
});
