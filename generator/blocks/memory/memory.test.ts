/**
 * Memory flow end to end: tiling choices, wrappers vs the behavioral ram1r1w under random
 * read/write/mask traffic on Icarus and Verilator, lint, Yosys keeping every macro as a
 * blackbox cell, synthesis file lists free of behavioral models, macros.json bit totals,
 * stub/model pin check, the PPA table, and lifArray running on macro wrappers.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveInput, type Resolved } from "../../config/resolve.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS, type Built } from "../../sim/harness.ts";
import { verilatorLint } from "../../toolchain/verilator.ts";
import { yosysSynth } from "../../toolchain/yosys.ts";
import { lifArrayParams } from "../lifArray/lifArray.ts";
import { renderLifTb, writeLifStimulus, type LifTbInstance } from "../lifArray/testbench.ts";
import { inCatalog, macroReport, macrosJson, memoryViews, planMemory } from "./macros.ts";
import { checkMacroViews, checkStubPins } from "./pins.ts";
import { logicalMemory } from "./ram1r1w.ts";
import { MACRO_OVERHEAD_BITS, SRAM_TABLE, sramEstimate } from "./sram.ts";
import { renderMemTb, writeMemStimulus, type MemTbInstance } from "./testbench.ts";
import type { GeneratedFile } from "../../core/files.ts";

const r = resolveInput({ name: "mt", model: { dim: 8, heads: 2, tokens: 4, timesteps: 2 } });
const work = buildDir("test", "memory");

/** shape under test: [memory, expected banks, expected columns, style] */
const shapes: [MemTbInstance, number[], number[], string][] = [
  [{ mem: logicalMemory("mt_mem_flops", "below macroMinBits", 48, 20), ops: 1200 }, [], [], "flops"],
  [{ mem: logicalMemory("mt_mem_wide", "width tiling", 64, 72, { preload: "mt_mem_wide.init.hex", kind: "state" }), ops: 1500 }, [64], [64, 8], "2p"],
  [{ mem: logicalMemory("mt_mem_deep", "depth banking", 2080, 16, { preload: "mt_mem_deep.init.hex", tier: "bottom", kind: "spikes" }), ops: 1500 }, [2048, 32], [16], "2p"],
  [{ mem: logicalMemory("mt_mem_pad", "padding", 200, 30, { kind: "residual" }), ops: 1200 }, [256], [32], "2p"],
  [{ mem: logicalMemory("mt_mem_both", "banks, columns, padding", 320, 100, { preload: "mt_mem_both.init.hex", kind: "scores" }), ops: 1500 }, [256, 64], [128], "2p"],
  [{ mem: logicalMemory("mt_mem_w1rw", "single-port weights", 512, 40, { ports: "1rw", preload: "mt_mem_w1rw.init.hex", kind: "weights" }), ops: 1500 }, [512], [32, 8], "1rw"],
];
const insts = shapes.map((s) => s[0]);
const mems = insts.map((i) => i.mem);
const tb = renderMemTb(r, "mt_memory_tb", insts);
const views = tb.views;

function writeAll(dir: string, files: GeneratedFile[]): void {
  for (const f of files) {
    const p = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.content);
  }
}
const at = (p: string) => path.join(work, p);

beforeAll(() => writeAll(work, tb.files));

describe("macro planning", () => {
  it("tiles each test shape as documented", () => {
    for (const [inst, banks, cols, style] of shapes) {
      const p = views.plans.find((q) => q.mem === inst.mem)!;
      expect([p.style, p.banks.map((b) => b.depth), p.columns.map((c) => c.width)], inst.mem.module).toEqual([style, banks, cols]);
      expect(p.storageBits).toBe(p.logicalBits + p.paddingBits);
      for (const b of p.banks) for (const c of p.columns) expect(inCatalog(b.depth, c.width)).toBe(true);
    }
    // flops exactly below the threshold; 4096 bits is a macro
    expect(planMemory(r, logicalMemory("a", "a", 128, 31)).style).toBe("flops");
    expect(planMemory(r, logicalMemory("a", "a", 128, 32)).style).toBe("2p");
    // a shape ORFS ships is used as is; a large memory is never split finer than it pays
    expect(planMemory(r, logicalMemory("a", "a", 2048, 39)).macros).toEqual([{ macro: "fakeram45_2p_2048x39", depth: 2048, width: 39, count: 1 }]);
    const big = planMemory(r, logicalMemory("a", "a", 1000, 32));
    expect([big.banks.map((b) => b.depth), big.paddingBits]).toEqual([[1024], 24 * 32]);
    expect(MACRO_OVERHEAD_BITS).toBeGreaterThan(1000);
  });

  it("rejects duplicate memory names", () => {
    expect(() => memoryViews(r, [mems[0], mems[0]])).toThrow(/two logical memories named/);
  });
});

describe("file lists", () => {
  it("synthesis lists never hold a behavioral model, simulation lists never a stub", () => {
    const kind = new Map(views.files.map((f) => [f.path, f.kind]));
    const synth = views.synthFiles();
    const sim = views.simFiles();
    for (const u of views.macros) {
      expect(synth).toContain(u.stubPath);
      expect(synth).not.toContain(u.modelPath);
      expect(sim).toContain(u.modelPath);
      expect(sim).not.toContain(u.stubPath);
    }
    expect(synth.map((p) => kind.get(p)).filter((k) => k !== "rtl" && k !== "stub")).toEqual([]);
    expect(sim.map((p) => kind.get(p)).filter((k) => k !== "rtl" && k !== "sim")).toEqual([]);
    // by content: every module named like a macro in the synthesis list is a blackbox
    for (const p of synth) {
      const text = fs.readFileSync(at(p), "utf8");
      for (const mm of text.matchAll(/^\s*module\s+(fakeram45_\w+)/gm)) expect(text, `${p} defines ${mm[1]}`).toMatch(/\(\* blackbox \*\)\s*\n\s*module/);
      expect(text, p).not.toMatch(/^\s*module\s+fakeram45_\w+[^;]*;[\s\S]*\breg\b[^;]*\bmem\b/m);
    }
    for (const m of mems) {
      expect(synth).toContain(`${m.module}.v`);
      expect(sim).toContain(`${m.module}.v`);
    }
  });
});

describe("macros.json", () => {
  it("has one file per tier whose totals are logical bits + padding", () => {
    const files = macrosJson(r, mems);
    expect(files.map((f) => f.path)).toEqual(["macros/top/macros.json", "macros/bottom/macros.json"]);
    for (const f of files) {
      const j = JSON.parse(f.content);
      const tierMems = mems.filter((m) => m.tier === j.tier);
      const logical = tierMems.reduce((a, m) => a + m.depth * m.width, 0);
      expect(j.totals.logicalBits).toBe(logical);
      const macroBits = j.macros.reduce((a: number, e: { bits: number }) => a + e.bits, 0);
      for (const e of j.macros) {
        expect(e.bits).toBe(e.count * e.depth * e.width);
        expect(e.tier).toBe(j.tier);
        expect(e.macro).toMatch(/^fakeram45_(2p_)?\d+x\d+$/);
      }
      expect(j.totals.macroBits).toBe(macroBits);
      expect(j.totals.macroBits + j.totals.flopBits).toBe(j.totals.logicalBits + j.totals.paddingBits);
      expect(j.totals.macroBits).toBe(j.totals.macroLogicalBits + j.totals.paddingBits);
      expect(j.totals.storageBits).toBe(j.totals.logicalBits + j.totals.paddingBits);
    }
    const rep = macroReport(r, mems);
    expect(rep.bottom.macros.map((e) => [e.macro, e.count])).toEqual([
      ["fakeram45_2p_2048x16", 1],
      ["fakeram45_2p_32x16", 1],
    ]);
    // padding: 200x30 in 256x32 and 320x100 in (256+64)x128
    expect(rep.top.totals.paddingBits).toBe(256 * 32 - 200 * 30 + 320 * 128 - 320 * 100);
    expect(rep.top.totals.flopBits).toBe(48 * 20);
  });
});

describe("SRAM PPA table", () => {
  it("returns the table on fakeram45 shapes and labels the fit elsewhere", () => {
    for (const row of SRAM_TABLE.filter((x) => x.areaUm2 !== null)) {
      const e = sramEstimate(row.depth, row.width);
      expect([e.areaUm2, e.energyPj, e.clkToQNs]).toEqual([row.areaUm2, row.energyPj, row.clkToQNs]);
      expect(e.source).toMatch(/^table: .*fakeram45/);
    }
    expect(sramEstimate(512, 32).source).toMatch(/^interpolation: power-law fit/);
    expect(sramEstimate(16, 8).source).toMatch(/^extrapolation/);
    expect(sramEstimate(2048, 256).source).toMatch(/^extrapolation/);
    // grows with depth and width
    for (const k of ["areaUm2", "energyPj", "clkToQNs"] as const) {
      expect(sramEstimate(512, 32)[k]).toBeGreaterThan(sramEstimate(256, 32)[k]);
      expect(sramEstimate(256, 64)[k]).toBeGreaterThan(sramEstimate(256, 32)[k]);
    }
    // Horowitz's 8 KB / 64-bit read (10 pJ) agrees with the fakeram45 fit within 2x
    const h = SRAM_TABLE.find((x) => x.source.startsWith("Horowitz"))!;
    const ratio = sramEstimate(h.depth, h.width).energyPj / h.energyPj!;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe("pin check", () => {
  it("every stub has exactly the pins of its behavioral model", async () => {
    const res = await checkMacroViews(views.macros, work, path.join(work, "pins"));
    expect(res.length).toBe(new Set(views.macros.map((u) => u.macro)).size);
    for (const c of res) expect(c.problems, c.module).toEqual([]);
  });

  it("fails on a stub with a wrong width, a renamed pin or a flipped direction", async () => {
    const u = views.macros.find((x) => x.macro === "fakeram45_2p_64x8")!;
    const u1 = views.macros.find((x) => x.macro === "fakeram45_512x8")!;
    const stub = fs.readFileSync(at(u.stubPath), "utf8");
    const stub1 = fs.readFileSync(at(u1.stubPath), "utf8");
    const cases: [string, string, string, RegExp][] = [
      [u.macro, u.modelPath, stub.replace(/\[7:0\] w_mask_in/, "[6:0] w_mask_in"), /pin w_mask_in: model has 'input \[7:0\] w_mask_in', stub has 'input \[6:0\] w_mask_in'/],
      [u.macro, u.modelPath, stub.replace(/\bre_in\b/, "rd_en_in"), /pin input re_in of the model is missing[\s\S]*stub pin input rd_en_in/],
      [u1.macro, u1.modelPath, stub1.replace(/input  wire                 ce_in/, "output wire                 ce_in"), /pin ce_in: model has 'input ce_in', stub has 'output ce_in'/],
    ];
    for (const [i, [macro, model, text, re]] of cases.entries()) {
      const bad = at(`pins/bad${i}/${macro}.v`);
      fs.mkdirSync(path.dirname(bad), { recursive: true });
      fs.writeFileSync(bad, text);
      const res = await checkStubPins(macro, at(model), bad, at(`pins/bad${i}/work`));
      expect(res.ok).toBe(false);
      expect(res.problems.join("\n")).toMatch(re);
    }
  });
});

describe("RTL quality", () => {
  it("wrappers (with their macro models) and models lint clean with verilator -Wall", async () => {
    for (const p of views.plans) {
      const models = p.macros.map((e) => at(`macros/sim/${e.macro}.v`));
      const res = await verilatorLint([at(`${p.mem.module}.v`), ...models], p.mem.module);
      expect(res.warnings, res.output).toEqual([]);
    }
    for (const u of views.macros) {
      const res = await verilatorLint([at(u.modelPath)], u.macro);
      expect(res.warnings, res.output).toEqual([]);
    }
  });

  it("Yosys on wrapper + stubs keeps every macro as a blackbox cell and infers no latch or memory", async () => {
    for (const p of views.plans) {
      const files = [`${p.mem.module}.v`, ...p.macros.map((e) => `macros/stub/${e.macro}.v`)];
      for (const f of files) expect(views.synthFiles()).toContain(f);
      const dir = at(`synth/${p.mem.module}`);
      const res = await yosysSynth(files.map(at), p.mem.module, dir);
      expect(res.latches).toBe(0);
      const stat = JSON.parse(fs.readFileSync(path.join(dir, "stat.json"), "utf8"));
      const top = stat.modules[`\\${p.mem.module}`] ?? stat.modules[p.mem.module];
      const cells: Record<string, number> = top.num_cells_by_type ?? {};
      const macroCells = Object.fromEntries(Object.entries(cells).filter(([k]) => k.startsWith("fakeram45_")));
      expect(macroCells, p.mem.module).toEqual(Object.fromEntries(p.macros.map((e) => [e.macro, e.count])));
      expect(Object.keys(cells).filter((k) => /mem/i.test(k))).toEqual([]);
      if (p.style === "flops") expect(Object.keys(cells).some((k) => /DFF/i.test(k))).toBe(true);
    }
  });
});

describe("wrappers match ram1r1w under random traffic", () => {
  const seeds = [3, 4];
  const simPaths = [...views.simFiles(), ...tb.files.filter((f) => f.kind === "tb").map((f) => f.path)].map(at);
  for (const sim of SIMS) {
    describe(sim, () => {
      let built: Built;
      beforeAll(async () => {
        built = await buildSim(sim, simPaths, "mt_memory_tb", work);
      });
      for (const seed of seeds) {
        it(`every read equal (seed ${seed})`, async () => {
          const dir = at(`data_${sim}_${seed}`);
          const reads = writeMemStimulus(dir, built.workDir, insts, seed);
          for (const n of reads) expect(n).toBeGreaterThan(500);
          const res = await runSimExpectPass(built, [`+data=${dir}`], seed);
          const line = res.lines.find((l) => l.startsWith("READS "))!;
          expect(line.split(" ").slice(1).map(Number)).toEqual(reads);
        });
      }
      it("fails loudly when one expected word is wrong", async () => {
        const dir = at(`data_${sim}_broken`);
        writeMemStimulus(dir, built.workDir, insts, 9);
        const f = path.join(dir, "m2.exp.hex");
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        lines[100] = (BigInt("0x" + lines[100]) ^ 1n).toString(16).padStart(lines[100].length, "0");
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`], 9);
        expect(res.pass).toBe(false);
        expect(res.output).toMatch(/MISMATCH mt_mem_deep read #100/);
      });
      it("stops when a single-port (1rw) memory is read and written in the same cycle", async () => {
        const dir = at(`data_${sim}_1rw`);
        writeMemStimulus(dir, built.workDir, insts, 10);
        const k = insts.findIndex((i) => i.mem.ports === "1rw");
        const f = path.join(dir, `m${k}.stim.hex`);
        const lines = fs.readFileSync(f, "utf8").trim().split("\n");
        const m = insts[k].mem;
        const both = (1n << BigInt(2 * m.width + 2 * m.addrBits + 1)) | (1n << BigInt(2 * m.width + m.addrBits));
        lines[50] = (BigInt("0x" + lines[50]) | both).toString(16).padStart(lines[50].length, "0");
        fs.writeFileSync(f, lines.join("\n") + "\n");
        const res = await runSim(built, [`+data=${dir}`], 10);
        expect(res.pass).toBe(false);
        expect(res.output).toMatch(/FAIL mt_mem_w1rw: read and write in the same cycle/);
      });
    });
  }
});

describe("the single-port contract check", () => {
  // re and we both high at the very first clock edge (power-up values, before any reset) must
  // not stop the simulation; both high at a later edge must
  const tbText = `\`timescale 1ns/1ps
module mt_contract_tb;
  reg clk = 1'b0;
  reg re = 1'b1;
  reg we = 1'b1;
  reg later = 1'b0;
  wire [39:0] rdata;
  mt_mem_w1rw dut (.clk(clk), .re(re), .raddr(9'd0), .rdata(rdata), .we(we), .waddr(9'd1), .wdata(40'd5), .wmask({40{1'b1}}));
  always #5 clk = ~clk;
  initial begin
    if ($test$plusargs("later")) later = 1'b1;
    @(negedge clk);
    re = 1'b0;
    we = 1'b0;
    repeat (4) @(negedge clk);
    if (later) begin
      re = 1'b1;
      we = 1'b1;
    end
    repeat (3) @(negedge clk);
    $display("PASS mt_contract_tb");
    $finish;
  end
  wire unused = &{1'b0, rdata};
endmodule
`;
  const simPaths = [...views.simFiles().map(at), at("mt_contract_tb.v")];
  for (const sim of SIMS)
    it(`${sim}: power-up values at the first edge pass, a later read+write stops the run`, async () => {
      fs.writeFileSync(at("mt_contract_tb.v"), tbText);
      const built = await buildSim(sim, simPaths, "mt_contract_tb", path.join(work, "contract"));
      const ok = await runSim(built, [], 1);
      expect(ok.pass, ok.output).toBe(true);
      const bad = await runSim(built, ["+later"], 1);
      expect(bad.pass).toBe(false);
      expect(bad.output).toMatch(/FAIL mt_mem_w1rw: read and write in the same cycle/);
    });
});

describe("lifArray on macro wrappers", () => {
  // macroMinBits 0: every state memory becomes a macro wrapper (tiny ones zero-extend the address)
  const rm: Resolved = { ...r, hw: { ...r.hw, macroMinBits: 0 } };
  const lr = resolveInput({ name: "lm", model: { dim: 8, heads: 2, tokens: 4, timesteps: 2 } });
  const base = lr.lif.shortcut;
  const linsts: LifTbInstance[] = [
    { p: lifArrayParams(lr, base, "dflt", 24, 4), label: "dflt", T: 5 },
    { p: lifArrayParams(lr, { ...base, reset: "subtract", threshold: 3, xBits: 6 }, "onegrp", 3, 4), label: "onegrp", T: 5 },
    { p: lifArrayParams(lr, { ...base, threshold: 40, xBits: 8 }, "vbits", 20, 4, true), label: "vbits", T: 6 },
  ];
  const lwork = buildDir("test", "memory", "lif");
  const lfiles = renderLifTb(lr, "lm_lifArray_tb", linsts);
  const memMods = new Set(linsts.map((i) => `${i.p.mem.module}.v`));
  const mv = memoryViews(
    rm,
    linsts.map((i) => i.p.mem),
  );
  const all = [...lfiles.filter((f) => !memMods.has(f.path)), ...mv.files];
  const simPaths = [...lfiles.filter((f) => !memMods.has(f.path)).map((f) => f.path), ...mv.simFiles()].map((p) => path.join(lwork, p));

  it("uses macros for every state memory", () => {
    expect(mv.plans.map((p) => p.style)).toEqual(["2p", "2p", "2p"]);
  });

  for (const sim of SIMS) {
    it(`matches the LIF golden model on ${sim}`, async () => {
      writeAll(lwork, all);
      const built = await buildSim(sim, simPaths, "lm_lifArray_tb", lwork);
      const dir = path.join(lwork, `data_${sim}`);
      writeLifStimulus(dir, linsts, 31, "random");
      await runSimExpectPass(built, [`+data=${dir}`], 31);
    });
  }
});
