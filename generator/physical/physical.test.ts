/**
 * The physical flow's parts on small inputs: liberty and LEF reading, the SRAM model and its
 * liberty through OpenSTA, the netlist clean-up (fanout repair, ties, aliases, flatten), the
 * STA report parser, the worker pool, and a timing that responds to the design (a longer
 * combinational chain gives a lower fmax; longer wires give a later arrival).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseLiberty, readLiberty, LibertyError } from "./liberty.ts";
import { loadLibrary, lefWireRc, OSU018, tieLiberty } from "./library.ts";
import { nodeFactors, sramAtNode, macroLiberty, sramModelConstants, STILLMAKER } from "../blocks/memory/sramModel.ts";
import { sramEstimate } from "../blocks/memory/sram.ts";
import { emitVerilog, flattenModule, normalizePorts, repairFanout, instancesOfVerilog, removeClockBuffers, type YModule } from "./netlist.ts";
import { runPool } from "./pool.ts";
import { parsePath, runSta } from "./sta.ts";
import { synthModules } from "./synth.ts";
import { parseActivity, instanceOfPath } from "./activity.ts";
import type { GeneratedFile } from "../core/files.ts";
import { run } from "../toolchain/tools.ts";
import { execa } from "execa";
import { interInstanceParasitics } from "./parasitics.ts";
import type { Netlist } from "../top/netlist.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "st3d-phys-"));
const lib = loadLibrary();

describe("liberty and LEF", () => {
  it("reads OSU018: cells, areas, units, kinds, pin capacitances", () => {
    const l = readLiberty(OSU018.liberty);
    expect(l.name).toBe("osu018_stdcells");
    expect(l.cells.size).toBe(32);
    expect(l.voltage).toBe(1.8);
    expect(l.timeUnitNs).toBe(1);
    expect(l.capUnitPf).toBe(1);
    expect(l.cells.get("INVX1")).toMatchObject({ area: 16, kind: "comb" });
    expect(l.cells.get("INVX1")!.leakageNw).toBeCloseTo(0.0221741, 9);
    expect(l.cells.get("DFFPOSX1")!.kind).toBe("ff");
    expect(l.cells.get("LATCH")!.kind).toBe("latch");
    expect(l.cells.get("TBUFX1")!.kind).toBe("tristate");
    expect(l.cells.get("DFFPOSX1")!.pins.find((p) => p.name === "CLK")).toMatchObject({ clock: true, direction: "input" });
    expect(lib.buffer.cell).toBe("BUFX4");
    expect(lib.tie.st3d).toBe(true); // OSU018 has no tie cells
    expect(lib.nodeNm).toBe(180);
  });

  it("names file and line on a malformed liberty", () => {
    expect(() => parseLiberty("library (x) {\n  cell (A) {\n    area 3;\n  }\n}\n", "bad.lib")).toThrow(LibertyError);
    expect(() => parseLiberty("library (x) {\n  cell (A) {\n    area 3;\n  }\n}\n", "bad.lib")).toThrow(/bad\.lib:3/);
  });

  it("derives the per-µm wire R and C from the LEF layer (R = RPERSQ/WIDTH, C = CPERSQDIST·WIDTH + 2·EDGECAP)", () => {
    const w = lefWireRc(OSU018.lef, "metal3");
    expect(w.rOhmPerUm).toBeCloseTo(0.08 / 0.3, 9);
    expect(w.cFfPerUm).toBeCloseTo((1.3e-5 * 0.3 + 2 * 5.4e-5) * 1000, 9);
    expect(lefWireRc(OSU018.lef, "metal5").cFfPerUm).toBeLessThan(w.cFfPerUm);
    expect(() => lefWireRc(OSU018.lef, "metal9")).toThrow(/metal9/);
  });
});

describe("SRAM model at the node", () => {
  it("is the identity at the source node and follows Stillmaker & Baas to 180 nm / 1.8 V", () => {
    const f45 = nodeFactors(45, 1.1);
    expect([f45.area, f45.delay, f45.energy]).toEqual([1, 1, 1]);
    const f = nodeFactors(180, 1.8);
    const poly = (c: readonly number[], v: number) => c.reduce((a, k) => a * v + k, 0);
    expect(f.delay).toBeCloseTo(poly(STILLMAKER["180"].delay, 1.8) / poly(STILLMAKER.HP45.delay, 1.1), 12);
    expect(f.energy).toBeCloseTo(poly(STILLMAKER["180"].energy, 1.8) / poly(STILLMAKER.HP45.energy, 1.1), 12);
    expect(f.area).toBeCloseTo(1 / 0.053, 12);
    // an older node is larger, slower and spends more energy per access
    expect(f.area).toBeGreaterThan(10);
    expect(f.delay).toBeGreaterThan(3);
    expect(f.energy).toBeGreaterThan(5);
    const m = sramAtNode("fakeram45_64x32", "1rw", 64, 32, lib.sram);
    const ref = sramEstimate(64, 32);
    expect(m.areaUm2).toBeCloseTo(1241 * f.area, 6);
    expect(m.clkToQNs).toBeCloseTo(0.207 * f.delay, 9);
    expect(m.readPj).toBeCloseTo(0.8 * f.energy, 9);
    expect(m.leakageNw).toBeCloseTo(2 * 64 * 32 * 0.0221741, 9);
    expect(ref.leakageNw).toBe(81627.2);
    for (const c of sramModelConstants(lib.sram)) expect(c.source.length, c.name).toBeGreaterThan(5);
    expect(() => nodeFactors(28, 0.9)).toThrow(/28 nm/);
  });

  it("emits a liberty that OpenSTA reads and times through: clock-to-Q and setup of the model", async () => {
    const dir = tmp();
    const m = sramAtNode("fakeram45_2p_64x32", "2p", 64, 32, lib.sram);
    fs.writeFileSync(path.join(dir, "m.lib"), macroLiberty(m));
    // a flop drives raddr_in, rd_out drives a flop
    fs.writeFileSync(
      path.join(dir, "t.v"),
      `module t (clk, a, q);
  input clk; input a; output q;
  wire d0; wire [5:0] ra; wire [31:0] rd;
  DFFPOSX1 \\u_f0.d  (.CLK(clk), .D(a), .Q(d0));
  fakeram45_2p_64x32 \\u_m.m  (.clk(clk), .re_in(d0), .raddr_in({d0, d0, d0, d0, d0, d0}), .rd_out(rd), .we_in(d0), .waddr_in({d0, d0, d0, d0, d0, d0}), .wd_in({${Array(32).fill("d0").join(", ")}}), .w_mask_in({${Array(32).fill("d0").join(", ")}}));
  DFFPOSX1 \\u_f1.d  (.CLK(clk), .D(rd[3]), .Q(q));
endmodule
`,
    );
    const sta = await runSta({ top: "t", lib, netlist: path.join(dir, "t.v"), extraLibs: [path.join(dir, "m.lib")], periodNs: 10, threeD: false, dir, power: false });
    expect(sta.critical).not.toBeNull();
    // the path into u_f1 starts with the macro's clock-to-Q (and the flop's setup)
    const dffSetupMax = 0.5;
    expect(sta.blockSlackNs.u_f1).toBeLessThanOrEqual(10 - m.clkToQNs + 1e-3);
    expect(sta.blockSlackNs.u_f1).toBeGreaterThan(10 - m.clkToQNs - dffSetupMax);
    // the macro inputs are endpoints with the model's setup time
    expect(sta.blockSlackNs.u_m).toBeLessThanOrEqual(10 - m.setupNs + 1e-3);
  });
});

describe("netlist clean-up", () => {
  const mk = (): YModule => ({
    ports: { clk: { direction: "input", bits: [2] }, a: { direction: "input", bits: [3] }, y: { direction: "output", bits: [4, 4, "1", 3] } },
    cells: Object.fromEntries([
      ["$f", { type: "DFFPOSX1", connections: { CLK: [2], D: [3], Q: [5] } }],
      ...Array.from({ length: 37 }, (_, i) => [`$g${i}`, { type: "NAND2X1", connections: { A: [5], B: ["0"], Y: [100 + i] } }]),
      ["$o", { type: "INVX1", connections: { A: [5], Y: [4] } }],
    ]),
    netnames: { a: { hide_name: 0, bits: [3] }, q: { hide_name: 0, bits: [5] } },
  });

  it("fanout repair bounds every data net by the max fanout and leaves the clock ideal", () => {
    const m = mk();
    normalizePorts(lib, m);
    const added = repairFanout(lib, m, 10);
    expect(added).toBeGreaterThanOrEqual(4);
    const loads = new Map<number, number>();
    for (const c of Object.values(m.cells))
      for (const [p, bits] of Object.entries(c.connections)) if (p !== "Y" && p !== "Q") for (const b of bits) if (typeof b === "number") loads.set(b, (loads.get(b) ?? 0) + 1);
    for (const [b, n] of loads) if (b !== 2) expect(n, `bit ${b}`).toBeLessThanOrEqual(10);
  });

  it("writes no assign: constants from tie cells, aliased output bits through buffers", () => {
    const m = mk();
    const e = emitVerilog(lib, "t", m);
    expect(e.verilog).not.toMatch(/\bassign\b/);
    expect(e.cells.ST3D_TIEHI).toBe(1); // y[2] = 1
    expect(e.cells.ST3D_TIELO).toBe(1); // the NAND inputs
    expect(e.aliasBuffers).toBe(2); // y[1] = y[0], y[3] = a
    expect(instancesOfVerilog(e.verilog).length).toBe(Object.values(e.cells).reduce((a, n) => a + n, 0));
  });

  it("flattens with instance-path names and drops buffers on clock nets", () => {
    const leaf: YModule = { ports: { c: { direction: "input", bits: [2] }, d: { direction: "input", bits: [3] }, q: { direction: "output", bits: [4] } }, cells: { f: { type: "DFFPOSX1", connections: { CLK: [2], D: [3], Q: [4] } } }, netnames: {} };
    const top: YModule = {
      ports: { clk: { direction: "input", bits: [2] }, x: { direction: "input", bits: [3] }, y: { direction: "output", bits: [5] } },
      cells: { cb: { type: "BUFX4", connections: { A: [2], Y: [6] } }, u_a: { type: "leaf", connections: { c: [6], d: [3], q: [7] } }, u_b: { type: "leaf", connections: { c: [6], d: [7], q: [5] } } },
      netnames: { mid: { hide_name: 0, bits: [7] } },
    };
    const flat = flattenModule("top", new Map([["top", top], ["leaf", leaf]]));
    expect(Object.keys(flat.cells).sort()).toEqual(["cb", "u_a.f", "u_b.f"]);
    expect(flat.cells["u_b.f"].connections.D).toEqual(flat.cells["u_a.f"].connections.Q);
    expect(removeClockBuffers(lib, flat)).toBe(1);
    expect(flat.cells["u_a.f"].connections.CLK).toEqual([2]);
  });
});

describe("inter-instance wires (SPEF)", () => {
  it("one branch per sink instance: a net reaching 3 pins of one block and 1 of another carries 2 wires, not 4", () => {
    const clk = { name: "clk", dir: "input" as const, width: 1 };
    const inst = (name: string, dir: "input" | "output", port: string) => ({ name, module: `m_${name}`, kind: "logic" as const, group: name, ports: [clk, { name: port, dir, width: 1 }], conns: { clk: "clk", [port]: "x" } });
    const nl: Netlist = { module: "top", ports: [clk], instances: [inst("u_a", "output", "q"), inst("u_b", "input", "d"), inst("u_c", "input", "d")] };
    const inv = (a: number, y: number) => ({ type: "INVX1", connections: { A: [a], Y: [y] } });
    const flat: YModule = {
      ports: { clk: { direction: "input", bits: [2] } },
      cells: { "u_a.f": { type: "DFFPOSX1", connections: { CLK: [2], D: [8], Q: [3] } }, "u_a.g": inv(3, 8), "u_b.g0": inv(3, 4), "u_b.g1": inv(3, 5), "u_b.g2": inv(3, 6), "u_c.g0": inv(3, 7) },
      netnames: { x: { hide_name: 0, bits: [3] } },
    };
    const len: Record<string, number> = { u_b: 1000, u_c: 500 };
    const dist = { branch: (_d: string, s: string) => ({ lengthUm: len[s], bond: false }), describe: () => "test" };
    const par = interInstanceParasitics(lib, "top", flat, nl, dist, null, lib.wire!);
    const w = par.nets.find((n) => n.net === "x")!;
    expect(w.capFfPerBit).toBeCloseTo(lib.wire!.cFfPerUm * 1500, 6); // a star per pin would give 3 x 1000 + 500
    expect(w.lengthUmPerBit).toBe(1500);
    const res = par.spef.split("*RES")[1].split("*END")[0].trim().split("\n").map((l) => Number(l.trim().split(/\s+/)[3]));
    expect(res.filter((r) => r > 1e-3 + 1e-9).length).toBe(2); // the two trunks
    expect(res.length).toBe(2 + 5); // + the 4 pins of u_b, u_c and the driver's own load
  });
});

describe("pool, parsers", () => {
  it("runs at most `jobs` calls at once, keeps the order, and reports the first failure", async () => {
    let live = 0;
    let peak = 0;
    const out = await runPool([5, 1, 4, 2, 3], 2, async (x) => {
      live++;
      peak = Math.max(peak, live);
      await new Promise((res) => setTimeout(res, x * 5));
      live--;
      return x * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
    await expect(runPool([1, 2, 3], 2, async (x) => (x === 2 ? Promise.reject(new Error("boom")) : x))).rejects.toThrow("boom");
  });

  it("parses an OpenSTA path into its blocks", () => {
    const text = `Startpoint: u_a._1_ (rising edge-triggered flip-flop clocked by clk)
Endpoint: u_b._9_ (rising edge-triggered flip-flop clocked by clk)
Path Group: clk
Path Type: max

  Delay    Time   Description
---------------------------------------------------------
   0.0000    0.0000   clock clk (rise edge)
   0.0000    0.0000 ^ u_a._1_/CLK (DFFPOSX1)
   0.2000    0.2000 v u_a._1_/Q (DFFPOSX1)
   0.5000    0.7000 ^ u_b._4_/Y (NAND2X1)
   0.1000    0.8000 v u_b._5_/Y (INVX1)
   0.0000    0.8000 v u_b._9_/D (DFFPOSX1)
             0.8000   data arrival time

  10.0000   10.0000   clock clk (rise edge)
            9.8000   data required time
-------------
            9.8000   data required time
           -0.8000   data arrival time
-------------
            9.0000   slack (MET)
`;
    const p = parsePath(text, false)!;
    expect(p.startpoint).toBe("u_a._1_");
    expect(p.arrivalNs).toBe(0.8);
    expect(p.slackNs).toBe(9);
    expect(p.blocks.map((b) => b.block)).toEqual(["u_a", "u_b"]);
    expect(p.blocks[0].delayNs).toBeCloseTo(0.2, 9);
    expect(p.blocks[1].delayNs).toBeCloseTo(0.6, 9);
  });

  it("parses the activity lines of a run", () => {
    const a = parseActivity(
      ["ST3D_ACT cycles 100", "ST3D_ACT net x_bus 8 u_a 40", "ST3D_ACT inst u_a 20", "ST3D_ACT macro tb.dut.u_mem.u_b0_c0 fakeram45_64x32 7 3", "ST3D_ACT mem TOP.tb.dut.u_tier_top.u_mem st3d_mem 7 3", "PASS tb"].join("\n"),
    )!;
    expect(a.cycles).toBe(100);
    expect(a.nets.x_bus).toEqual({ width: 8, driver: "u_a", toggles: 40 });
    expect(a.memories.u_mem).toEqual({ module: "st3d_mem", reads: 7, writes: 3 });
    expect(a.macros[0]).toMatchObject({ macro: "fakeram45_64x32", reads: 7 });
    expect(instanceOfPath("tb.dut.u_x.y")).toBe("u_x");
    expect(parseActivity("PASS tb")).toBeNull();
  });
});

// ---------------------------------------------------------------- timing responds to the design

function chain(name: string, stages: number): GeneratedFile {
  const lines = [`module ${name} (input wire clk, input wire [15:0] a, input wire [15:0] k, output reg [15:0] y);`, "  reg [15:0] x0;", "  reg [15:0] kq;", "  always @(posedge clk) begin x0 <= a; kq <= k; end"];
  for (let i = 1; i <= stages; i++) lines.push(`  wire [15:0] s${i} = ${i === 1 ? "x0" : `s${i - 1}`} * 16'd3 + (kq ^ 16'd${i});`);
  lines.push(`  always @(posedge clk) y <= s${stages};`, "endmodule", "");
  return { path: `${name}.v`, kind: "rtl", content: lines.join("\n") };
}

describe("timing responds to the design", () => {
  it("a longer combinational chain gives a lower fmax (same library, same target)", async () => {
    const dir = tmp();
    const files = [chain("st3d_chain2", 2), chain("st3d_chain8", 8)];
    const mods = await synthModules(files, ["st3d_chain2", "st3d_chain8"], [], { lib, clockMHz: 400, progressLabel: false });
    fs.writeFileSync(path.join(dir, "tie.lib"), tieLiberty(lib.voltage));
    const fmax: Record<string, number> = {};
    for (const m of ["st3d_chain2", "st3d_chain8"]) {
      const s = await runSta({ top: m, lib, netlist: mods.get(m)!.verilog, extraLibs: [path.join(dir, "tie.lib")], periodNs: 2.5, threeD: false, dir: path.join(dir, m), power: false });
      fmax[m] = s.fmaxMHz;
      expect(s.critical!.endpoint).toMatch(/^_\d+_$|y/);
    }
    expect(fmax.st3d_chain8).toBeLessThan(0.6 * fmax.st3d_chain2);
    // and Yosys' own area of the mapped chain matches st3d's sum over the liberty
    const y = await run("yosys", ["-q", "-p", `read_liberty -lib ${lib.liberty}; read_verilog ${mods.get("st3d_chain8")!.verilog}; hierarchy -top st3d_chain8; tee -o ${path.join(dir, "stat.txt")} stat -liberty ${lib.liberty}`]);
    expect(y.code, y.output).toBe(0);
    const area = Number(fs.readFileSync(path.join(dir, "stat.txt"), "utf8").match(/Chip area for module '[^']*':\s*([0-9.]+)/)![1]);
    expect(area).toBeCloseTo(mods.get("st3d_chain8")!.stdCellAreaUm2, 3);
  });

  it("synthesis is silent for no more than the heartbeat interval (async Yosys, progress lines)", async () => {
    const lines: { t: number; s: string }[] = [];
    const stream = { isTTY: false, write: (s: string) => (lines.push({ t: Date.now(), s }), true) } as unknown as NodeJS.WritableStream;
    const t0 = Date.now();
    // a module that is not in the cache: its name carries a fresh tag
    const name = `st3d_chain_p${process.pid}_${Date.now() % 100000}`;
    await synthModules([chain(name, 6)], [name], [], { lib, clockMHz: 400, progressLabel: "synth", progressStream: stream, progressIntervalMs: 1000 });
    const t1 = Date.now();
    expect(lines[0].s).toMatch(/\[synth\] started \(1 modules\)/);
    expect(lines[lines.length - 1].s).toMatch(/\[synth\] 1 modules mapped onto osu018_stdcells/);
    const stamps = [t0, ...lines.map((l) => l.t), t1];
    const gaps = stamps.slice(1).map((t, i) => t - stamps[i]);
    if (t1 - t0 > 2500) expect(lines.some((l) => /still working/.test(l.s))).toBe(true);
    expect(Math.max(...gaps)).toBeLessThan(1000 + 700);
  });
});

describe("st3d synth / timing on bad input", () => {
  const ST3D = path.resolve("bin/st3d.js");
  const st3d = (args: string[]) => execa("node", [ST3D, ...args], { reject: false, all: true });
  it("a missing liberty, a bad --jobs and a missing --activity are one-line errors that say what to do", async () => {
    const a = await st3d(["synth", "tiny", "--liberty", "/nonexistent/x.lib", "-o", tmp()]);
    expect(a.exitCode).not.toBe(0);
    expect(a.all).toMatch(/^st3d: liberty \/nonexistent\/x\.lib not found\. Fix: check the --liberty path/m);
    const b = await st3d(["synth", "tiny", "-j", "0", "-o", tmp()]);
    expect(b.exitCode).not.toBe(0);
    expect(b.all).toMatch(/--jobs must be a positive integer, got '0'/);
    const c = await st3d(["timing", "tiny", "--activity", "/nonexistent/run.json", "-o", tmp()]);
    expect(c.exitCode).not.toBe(0);
    expect(c.all).toMatch(/--activity \/nonexistent\/run\.json: no such file \(write one with 'st3d run -c tiny/);
    for (const r of [a, b, c]) expect(r.all).not.toMatch(/internal error|at .*\.ts:\d+/);
  });
});

describe("--liberty: another cell library", () => {
  it("is what synthesis maps onto and prices by (a copy of OSU018 with every area doubled gives twice the area)", async () => {
    const dir = tmp();
    const text = fs.readFileSync(OSU018.liberty, "utf8").replace(/^library\s*\(\s*osu018_stdcells\s*\)/m, "library (st3d_test_x2)").replace(/^(\s*area\s*:\s*)([0-9.]+)\s*;/gm, (_m, a: string, v: string) => `${a}${2 * Number(v)};`);
    const libFile = path.join(dir, "x2.lib");
    fs.writeFileSync(libFile, text);
    expect(() => loadLibrary({ liberty: libFile })).toThrow(/cannot tell the technology node .*--node/);
    const lib2 = loadLibrary({ liberty: libFile, lef: OSU018.lef, nodeNm: 180 });
    expect(lib2.name).toBe("st3d_test_x2");
    const files = [chain("st3d_chain3", 3)];
    const a = await synthModules(files, ["st3d_chain3"], [], { lib, clockMHz: 400, progressLabel: false });
    const b = await synthModules(files, ["st3d_chain3"], [], { lib: lib2, clockMHz: 400, progressLabel: false });
    // ABC sees the doubled areas as a uniform scale: the same mapping at twice the area
    expect(b.get("st3d_chain3")!.cells).toEqual(a.get("st3d_chain3")!.cells);
    expect(b.get("st3d_chain3")!.stdCellAreaUm2).toBeCloseTo(2 * a.get("st3d_chain3")!.stdCellAreaUm2, 6);
  });
});
