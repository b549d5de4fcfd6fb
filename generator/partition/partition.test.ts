/**
 * Two-tier partitioning: mode rules, FM, the tier tops and assembly (lint, synthesis,
 * 2D/3D equivalence on both simulators), bond accounting, partition.txt and the 3Dblox
 * bump maps — on a small synthetic design, then on the real accelerator (tiny preset).
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolve, resolveInput, type Resolved } from "../config/resolve.ts";
import { ConfigError, loadConfig, parseConfig } from "../config/load.ts";
import { buildDesign } from "../design.ts";
import { fileHeader } from "../render/render.ts";
import { renderStructural, type InstanceDecl, type Netlist, type Tier } from "../top/netlist.ts";
import { parsePorts } from "../top/ports.ts";
import { logicalMemory } from "../blocks/memory/ram1r1w.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, simValue, SIMS, type Built } from "../sim/harness.ts";
import { verilatorLint } from "../toolchain/verilator.ts";
import { yosysSynth } from "../toolchain/yosys.ts";
import { Prng } from "../util/prng.ts";
import { exactBipartition, fmBipartition, cutOf, compareCost, type Hypergraph, type Side } from "./fm.ts";
import { topInstanceOf, type AreaEstimate, type FlatNetlist } from "./areas.ts";
import { flatNetlist, synthAreas } from "../physical/design.ts";
import { loadLibrary } from "../physical/library.ts";
import { instancesOfVerilog } from "../physical/netlist.ts";
import { synthModules, type ModuleSynth } from "../physical/synth.ts";
import { bondBudget, mainConsumer, netlistGraph, partitionStats, tierPartition, type Mode } from "./partition.ts";
import { buildThreeD, parseBmap, threeDViews, type ThreeD } from "./views.ts";
import { renderEquivTb, writeEquivStimulus } from "./testbench.ts";
import type { GeneratedFile } from "../core/files.ts";

// ---------------------------------------------------------------- the synthetic design

const LEAVES: Record<string, string> = {
  pt_ctrl: `module pt_ctrl (
  input  wire clk,
  input  wire rst,
  input  wire in_valid,
  input  wire [2:0] in_addr,
  input  wire [7:0] in_data,
  output wire busy,
  output wire go,
  output wire a_we,
  output wire [2:0] a_waddr,
  output wire [7:0] a_wdata,
  output wire [7:0] a_wmask,
  output wire a_re,
  output wire [2:0] a_raddr,
  output wire c_we,
  output wire [2:0] c_waddr,
  output wire [7:0] c_wdata,
  output wire [7:0] c_wmask
);
  reg v;
  reg [2:0] ad;
  reg [7:0] d;
  reg [3:0] cnt;
  reg ph;
  always @(posedge clk) begin
    if (rst) begin
      v <= 1'b0; ad <= 3'd0; d <= 8'd0; cnt <= 4'd0; ph <= 1'b0;
    end else begin
      v <= in_valid; ad <= in_addr; d <= in_data; cnt <= cnt + 4'd1; ph <= ~ph;
    end
  end
  assign busy = cnt[3];
  assign go = ph;
  assign a_we = v & ~ph;
  assign a_waddr = ad;
  assign a_wdata = d;
  assign a_wmask = {4'hf, d[3:0] | 4'h5};
  assign a_re = 1'b1;
  assign a_raddr = cnt[2:0];
  assign c_we = v & ph;
  assign c_waddr = ~ad;
  assign c_wdata = d ^ 8'h5a;
  assign c_wmask = 8'hff;
endmodule
`,
  pt_dataflow: `module pt_dataflow (
  input  wire clk,
  input  wire rst,
  input  wire go,
  input  wire [7:0] a_rdata,
  output wire b_we,
  output wire [2:0] b_waddr,
  output wire [7:0] b_wdata,
  output wire [7:0] b_wmask,
  output wire [7:0] x_out
);
  reg [7:0] acc;
  reg [2:0] wa;
  always @(posedge clk) begin
    if (rst) begin
      acc <= 8'd0; wa <= 3'd0;
    end else begin
      acc <= acc + a_rdata;
      if (go) wa <= wa + 3'd1;
    end
  end
  assign b_we = go;
  assign b_waddr = wa;
  assign b_wdata = acc;
  assign b_wmask = 8'hff;
  assign x_out = acc ^ {wa, 5'd0};
endmodule
`,
  pt_pool: `module pt_pool (
  input  wire clk,
  input  wire rst,
  input  wire go,
  input  wire [1:0] cfg,
  input  wire [7:0] x_in,
  input  wire [7:0] in_data,
  input  wire [7:0] b_rdata,
  input  wire [7:0] c_rdata,
  output wire b_re,
  output wire [2:0] b_raddr,
  output wire c_re,
  output wire [2:0] c_raddr,
  output wire [7:0] out_data,
  output wire out_valid,
  output wire [3:0] dbg
);
  reg [7:0] y;
  reg [2:0] ra;
  reg v;
  always @(posedge clk) begin
    if (rst) begin
      y <= 8'd0; ra <= 3'd0; v <= 1'b0;
    end else begin
      y <= (cfg[0] ? (b_rdata + c_rdata) : (b_rdata - c_rdata)) ^ x_in ^ in_data;
      ra <= ra + {2'b00, cfg[1] | go};
      v <= go;
    end
  end
  assign b_re = 1'b1;
  assign b_raddr = ra;
  assign c_re = go;
  assign c_raddr = ~ra;
  assign out_data = y;
  assign out_valid = v;
  assign dbg = y[7:4];
endmodule
`,
  pt_mem: `module pt_mem (
  input  wire clk,
  input  wire rst,
  input  wire re,
  input  wire [2:0] raddr,
  output reg  [7:0] rdata,
  input  wire we,
  input  wire [2:0] waddr,
  input  wire [7:0] wdata,
  input  wire [7:0] wmask
);
  reg [63:0] m;
  always @(posedge clk) begin
    if (rst) begin
      m <= 64'd0;
      rdata <= 8'd0;
    end else begin
      if (re) rdata <= m[{raddr, 3'b000} +: 8];
      if (we) m[{waddr, 3'b000} +: 8] <= (m[{waddr, 3'b000} +: 8] & ~wmask) | (wdata & wmask);
    end
  end
endmodule
`,
};

const CHIP = [
  { name: "clk", dir: "input", width: 1 },
  { name: "rst", dir: "input", width: 1 },
  { name: "in_valid", dir: "input", width: 1 },
  { name: "in_addr", dir: "input", width: 3 },
  { name: "in_data", dir: "input", width: 8 },
  { name: "out_valid", dir: "output", width: 1 },
  { name: "out_data", dir: "output", width: 8 },
  { name: "busy", dir: "output", width: 1 },
] as const;

function syntheticNetlist(): Netlist {
  const ports = (m: string) => parsePorts(LEAVES[m], m);
  const self = (m: string) => Object.fromEntries(ports(m).map((p) => [p.name, p.name]));
  const mem = (x: string, reader: Record<string, string> = {}): InstanceDecl => ({
    name: `u_mem_${x}`,
    module: "pt_mem",
    kind: "memory",
    group: "mem:spikes",
    ports: ports("pt_mem"),
    conns: { clk: "clk", rst: "rst", re: `${x}_re`, raddr: `${x}_raddr`, rdata: `${x}_rdata`, we: `${x}_we`, waddr: `${x}_waddr`, wdata: `${x}_wdata`, wmask: `${x}_wmask`, ...reader },
    memory: logicalMemory("pt_mem", `buffer ${x}`, 8, 8, { kind: "spikes" }),
  });
  const instances: InstanceDecl[] = [
    { name: "u_ctrl", module: "pt_ctrl", kind: "logic", group: "ctrl", ports: ports("pt_ctrl"), conns: self("pt_ctrl") },
    { name: "u_dataflow", module: "pt_dataflow", kind: "logic", group: "dataflow", ports: ports("pt_dataflow"), conns: { ...self("pt_dataflow"), x_out: "x_am" } },
    mem("a"),
    { name: "u_pool", module: "pt_pool", kind: "logic", group: "pool", ports: ports("pt_pool"), conns: { ...self("pt_pool"), cfg: "2'b01", x_in: "x_am", dbg: "unused_m_dbg" } },
    mem("b"),
    mem("c"),
  ];
  return { module: "pt_top", ports: CHIP.map((p) => ({ ...p })), instances };
}

const nl = syntheticNetlist();
const leafFiles: GeneratedFile[] = Object.entries(LEAVES).map(([m, v]) => ({ path: `${m}.v`, kind: "rtl", content: v }));
const rBase = resolveInput({ name: "pt" });
const topFile: GeneratedFile = { path: "pt_top.v", kind: "rtl", content: fileHeader(rBase, "pt_top.v", "2D top", "generator/partition/partition.test.ts") + renderStructural(nl, ["synthetic 2D top"]) };
const designFiles = [...leafFiles, topFile];
const cfg = (name: string, mode: Mode, extra: Record<string, unknown> = {}): Resolved => resolveInput({ name, integration: { mode, balance: 0.4, ...extra } });

const work = buildDir("test", "partition");
const write = (files: GeneratedFile[], dir = work) =>
  files.map((f) => {
    const p = path.join(dir, f.path);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, f.content);
    return p;
  });

const MODES3D: Mode[] = ["memory-on-logic", "logic-on-logic", "auto"];
const tag: Record<string, string> = { "memory-on-logic": "mol", "logic-on-logic": "lol", auto: "auto" };
const views = new Map<Mode, ThreeD>();
const synthCfg = { lib: loadLibrary(), clockMHz: 100, progressLabel: false as const };
let ptAreas: AreaEstimate;
let ptMods: Map<string, ModuleSynth>;
let ptFlat: FlatNetlist;

beforeAll(async () => {
  ({ areas: ptAreas, mods: ptMods } = await synthAreas(designFiles, nl, synthCfg));
  ptFlat = await flatNetlist("pt_top", ptMods, synthCfg, true);
  for (const m of MODES3D) views.set(m, buildThreeD(cfg(`pt_${tag[m]}`, m), designFiles, nl, { flatVerilog: true, areas: ptAreas, flat: ptFlat }));
});

// ---------------------------------------------------------------- mode rules, FM

describe("tier assignment", () => {
  const areas = () => views.get("auto")!.areas!.um2;

  it("2d puts everything on the bottom die and has no 3D views", () => {
    const r = cfg("pt_2d", "2d");
    const a = tierPartition(r, nl, areas());
    expect([...a.values()].every((t) => t === "bottom")).toBe(true);
    expect(threeDViews(r, designFiles, nl)).toEqual([]);
  });

  it("memory-on-logic: memories on top, logic on the bottom", () => {
    const a = tierPartition(cfg("x", "memory-on-logic"), nl, areas());
    for (const i of nl.instances) expect(a.get(i.name), i.name).toBe(i.kind === "memory" ? "top" : "bottom");
  });

  it("logic-on-logic: ctrl + dataflow bottom, pool top, each memory with the logic that reads it", () => {
    expect(mainConsumer(nl, "u_mem_a")).toBe("u_dataflow");
    expect(mainConsumer(nl, "u_mem_b")).toBe("u_pool");
    // written by ctrl with more bits than pool reads, but pool is the reader
    expect(mainConsumer(nl, "u_mem_c")).toBe("u_pool");
    const rule = { u_ctrl: "bottom", u_dataflow: "bottom", u_mem_a: "bottom", u_pool: "top", u_mem_b: "top", u_mem_c: "top" };
    expect(Object.fromEntries(tierPartition(cfg("x", "logic-on-logic", { balance: 1 }), nl, areas()))).toEqual(rule);
  });

  it("logic-on-logic repairs a broken balance bound by moving memories only", () => {
    // logic areas 1, 1, 1 and memories a 4, b 6, c 6: the rule puts 6 on the bottom and 13 on top (0.37);
    // within 0.2 only with one of b, c on the bottom and a on top
    const toyArea: Record<string, number> = { u_ctrl: 1, u_dataflow: 1, u_pool: 1, u_mem_a: 4, u_mem_b: 6, u_mem_c: 6 };
    const toy = new Map(Object.entries(toyArea));
    const r = cfg("x", "logic-on-logic", { balance: 0.2 });
    const ruleStats = partitionStats(r, nl, tierPartition(cfg("x", "logic-on-logic", { balance: 1 }), nl, toy), toy);
    expect(ruleStats.balanceOk).toBe(false);
    const a = tierPartition(r, nl, toy);
    const s = partitionStats(r, nl, a, toy);
    expect(s.balanceOk).toBe(true);
    expect([a.get("u_ctrl"), a.get("u_dataflow"), a.get("u_pool")]).toEqual(["bottom", "bottom", "top"]);
  });

  it("auto: FM respects the balance bound and cuts no more than the rule-based modes that meet it", () => {
    const cutsAt: { balance: number; cut: number; feasible: boolean }[] = [];
    for (const balance of [0.1, 0.2, 0.4, 0.8]) {
      const r = cfg("x", "auto", { balance });
      const s = partitionStats(r, nl, tierPartition(r, nl, areas()), areas());
      // the optimum by exhaustive search over the 6 instances
      const ex = exactBipartition(netlistGraph(nl, areas()).hg, { balance, cutLimit: (w0, w1) => bondBudget(r, Math.max(w0, w1)) });
      if (ex.feasible) {
        expect(s.balance, `balance ${balance}`).toBeLessThanOrEqual(balance + 1e-12);
        expect(s.cut, `balance ${balance}`).toBe(ex.cut);
      } else expect(s.balance).toBeCloseTo(ex.balance, 9); // the most balanced partition
      cutsAt.push({ balance, cut: s.cut, feasible: ex.feasible });
      for (const m of ["memory-on-logic", "logic-on-logic"] as Mode[]) {
        const o = partitionStats(r, nl, tierPartition(cfg("x", m, { balance }), nl, areas()), areas());
        if (o.balanceOk) expect(s.cut, `${m} at ${balance}`).toBeLessThanOrEqual(o.cut);
      }
    }
    expect(cutsAt.filter((c) => c.feasible).length, JSON.stringify(cutsAt)).toBeGreaterThanOrEqual(2);
  });

  it("auto is deterministic", () => {
    const r = cfg("x", "auto");
    expect([...tierPartition(r, nl, areas())]).toEqual([...tierPartition(r, nl, areas())]);
  });
});

describe("Fiduccia–Mattheyses", () => {
  it("finds the known min cut of two clusters joined by one light net", () => {
    // cluster A = 0..3, cluster B = 4..7, heavy nets inside, a 1-bit bridge 3-4; vertex 8 fixed bottom, tied to A
    const nets = [
      { pins: [0, 1, 2, 3], weight: 16 },
      { pins: [0, 1], weight: 8 },
      { pins: [2, 3], weight: 8 },
      { pins: [4, 5, 6, 7], weight: 16 },
      { pins: [5, 6], weight: 8 },
      { pins: [4, 7], weight: 8 },
      { pins: [3, 4], weight: 1 },
      { pins: [8, 0], weight: 4 },
    ];
    const hg: Hypergraph = { weights: [1, 1, 1, 1, 1, 1, 1, 1, 0], nets, fixed: new Map([[8, 0 as Side]]) };
    // start from the worst interleaving; no random starts
    const res = fmBipartition(hg, { balance: 0.0, starts: [[0, 1, 0, 1, 0, 1, 0, 1, 0]], randomStarts: 0 });
    expect(res.cut).toBe(1);
    expect(res.side.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(res.side.slice(4, 8)).toEqual([1, 1, 1, 1]);
    expect(res.feasible).toBe(true);
  });

  it("prefers a balanced partition to a smaller cut, and matches exhaustive search on random hypergraphs", () => {
    const rng = new Prng(7);
    for (let g = 0; g < 24; g++) {
      const n = rng.int(6, 12);
      const weights = Array.from({ length: n }, () => rng.int(1, 20));
      const nets = Array.from({ length: rng.int(n, 3 * n) }, () => {
        const k = rng.int(2, 4);
        const pins = [...new Set(Array.from({ length: k }, () => rng.int(0, n - 1)))].sort((a, b) => a - b);
        return { pins, weight: rng.int(1, 32) };
      }).filter((e) => e.pins.length > 1);
      const hg: Hypergraph = { weights, nets, fixed: new Map([[0, 0 as Side]]) };
      const opts = { balance: [0.1, 0.3, 0.6][g % 3], cutLimit: g % 4 === 0 ? () => 40 : undefined };
      const fm = fmBipartition(hg, opts);
      const ex = exactBipartition(hg, opts);
      // same violations and cut (the last key, |W1 - W0|, only breaks ties)
      expect(compareCost({ ...fm.cost, imbalance: 0 }, { ...ex.cost, imbalance: 0 }), `graph ${g}: FM ${JSON.stringify(fm.cost)} exact ${JSON.stringify(ex.cost)}`).toBe(0);
      expect(cutOf(hg, fm.side)).toBe(fm.cut);
      if (ex.cost.balanceViolation === 0) expect(fm.balance).toBeLessThanOrEqual(opts.balance + 1e-12);
    }
  });
});

describe("areas", () => {
  it("every synthetic instance has an area from its own synthesis: the liberty areas of its mapped cells", () => {
    const t = views.get("auto")!;
    const lib = synthCfg.lib;
    for (const d of t.areas!.detail) {
      expect(d.areaUm2, d.inst).toBeGreaterThan(0);
      // recomputed from the mapped netlist's cell list and the liberty
      const cells = instancesOfVerilog(fs.readFileSync(ptMods.get(d.module)!.verilog, "utf8"));
      const sum = cells.reduce((a, c) => a + (lib.lib.cells.get(c.type)?.area ?? 0), 0);
      expect(sum, d.inst).toBeCloseTo(d.areaUm2, 6);
    }
    // a memory: 64 storage + 8 rdata flops
    expect(t.areas!.detail.find((d) => d.inst === "u_mem_a")!.flops).toBe(72);
    expect(t.areas!.source).toMatch(/osu018_stdcells/);
    // the flat netlist behind partition.txt holds exactly the cells of the instances (plus the top's ties)
    const byInst = new Map<string, number>();
    for (const c of ptFlat.cells) byInst.set(topInstanceOf(c.name), (byInst.get(topInstanceOf(c.name)) ?? 0) + 1);
    for (const d of t.areas!.detail) expect(byInst.get(d.inst), d.inst).toBe(d.cells);
  });
});

describe("RTL-only views", () => {
  it("physical: false gives the tier tops, the assembly and bond_map.json only, identical to the full views", () => {
    const r = cfg("pt_lol", "logic-on-logic");
    const lite = threeDViews(r, designFiles, nl, { physical: false, areas: ptAreas });
    expect(lite.map((f) => f.path)).toEqual(["pt_lol_tier_bottom.v", "pt_lol_tier_top.v", "pt_lol_3d.v", "3d/bond_map.json"]);
    for (const f of lite) expect(f.content, f.path).toBe(views.get("logic-on-logic")!.files.find((x) => x.path === f.path)!.content);
  });
});

describe("f2fRegisters", () => {
  it("is refused at validation for 3D modes with a message naming the field, accepted for 2d", () => {
    for (const m of MODES3D) expect(() => cfg("x", m, { f2fRegisters: true })).toThrow(ConfigError);
    for (const m of MODES3D) expect(() => cfg("x", m, { f2fRegisters: true })).toThrow(/integration\.f2fRegisters: .*\(got true\); valid: false/);
    expect(() => cfg("x", "2d", { f2fRegisters: true })).not.toThrow();
  });
});

// ---------------------------------------------------------------- views

const file = (t: ThreeD, p: string) => {
  const f = t.files.find((x) => x.path === p);
  if (!f) throw new Error(`no file ${p}`);
  return f;
};

describe("3D views of the synthetic design", () => {
  it("bond count = total F2F port width of both tier tops, direction-consistent", () => {
    for (const m of MODES3D) {
      const t = views.get(m)!;
      const name = `pt_${tag[m]}`;
      const manifest = JSON.parse(file(t, "3d/3d_manifest.json").content);
      const bot = parsePorts(file(t, `${name}_tier_bottom.v`).content, `${name}_tier_bottom`);
      const top = parsePorts(file(t, `${name}_tier_top.v`).content, `${name}_tier_top`);
      const f2f = (ps: typeof bot) => ps.filter((p) => p.name.startsWith("f2f_"));
      const sum = (ps: typeof bot) => ps.reduce((a, p) => a + p.width, 0);
      expect(sum(f2f(bot)), m).toBe(manifest.bonds);
      expect(sum(f2f(top)), m).toBe(manifest.bonds);
      // every F2F port is an output on one die and an input of the same width on the other
      const topBy = new Map(f2f(top).map((p) => [p.name, p]));
      for (const p of f2f(bot)) expect(topBy.get(p.name), p.name).toEqual({ ...p, dir: p.dir === "input" ? "output" : "input" });
      // chip I/O only on the bottom die
      expect(bot.filter((p) => !p.name.startsWith("f2f_")).map((p) => p.name)).toEqual(CHIP.map((p) => p.name));
      expect(top.filter((p) => !p.name.startsWith("f2f_"))).toEqual([]);
      expect(Math.abs(manifest.bondBudget - manifest.footprintUm2 * 0.5)).toBeLessThanOrEqual(1); // pitch 1 µm, usable 0.5
      expect(manifest.bondMargin).toBe(manifest.bondBudget - manifest.bonds);
      const bm = JSON.parse(file(t, "3d/bond_map.json").content);
      expect(bm.nets.reduce((a: number, n: { width: number }) => a + n.width, 0)).toBe(manifest.bonds);
      // the clock reaches the top die through the bond
      expect(bm.nets[0]).toMatchObject({ name: "clk", port: "f2f_clk", width: 1, sourceTier: "bottom", sinkTier: "top" });
    }
    // logic-on-logic: a chip input used on top passes through the bottom die; a chip output comes back
    const bm = JSON.parse(file(views.get("logic-on-logic")!, "3d/bond_map.json").content);
    expect(bm.nets.find((n: { name: string }) => n.name === "in_data")).toMatchObject({ direction: "bottom->top", driver: "<chip>.in_data" });
    expect(bm.nets.find((n: { name: string }) => n.name === "out_data")).toMatchObject({ direction: "top->bottom", sinks: ["<chip>.out_data"] });
    expect(file(views.get("logic-on-logic")!, "pt_lol_tier_bottom.v").content).toContain("assign out_data = f2f_out_data;");
  });

  it("each tier top lints clean (verilator -Wall) and synthesizes on its own (Yosys, no latch)", async () => {
    for (const m of MODES3D) {
      const t = views.get(m)!;
      const name = `pt_${tag[m]}`;
      const dir = path.join(work, "lint", tag[m]);
      const paths = write([...leafFiles, ...t.files.filter((f) => f.kind === "rtl")], dir);
      for (const mod of [`${name}_tier_bottom`, `${name}_tier_top`, `${name}_3d`]) {
        const lint = await verilatorLint(paths, mod);
        expect(lint.warnings, `${mod}\n${lint.output}`).toEqual([]);
        expect(lint.ok).toBe(true);
      }
      for (const tier of ["bottom", "top"]) {
        const res = await yosysSynth(paths, `${name}_tier_${tier}`, path.join(dir, `synth_${tier}`));
        expect(res.ok, `${name}_tier_${tier}`).toBe(true);
        expect(res.totalCells).toBeGreaterThan(0);
      }
    }
  });

  it("partition.txt lists every cell of the flattened 2D netlist exactly once, on its instance's tier, plus the chip ports on tier 0", () => {
    for (const m of MODES3D) {
      const t = views.get(m)!;
      const lines = file(t, "3d/partition.txt").content.trim().split("\n").map((l) => l.split(" "));
      expect(lines.every((l) => l.length === 2 && (l[1] === "0" || l[1] === "1"))).toBe(true);
      // cells of the flat netlist, read back from its Verilog (escaped names)
      const flat = file(t, `3d/pt_${tag[m]}_flat.v`).content;
      const cells = instancesOfVerilog(flat).map((c) => c.name.replace(/^\\/, ""));
      expect(cells.length).toBeGreaterThan(100);
      const names = lines.map((l) => l[0]);
      expect(new Set(names).size).toBe(names.length);
      const ports = CHIP.map((p) => p.name);
      expect(names.slice(-ports.length)).toEqual(ports);
      expect(lines.slice(-ports.length).every((l) => l[1] === "0")).toBe(true);
      expect([...names.slice(0, -ports.length)].sort()).toEqual([...cells].sort());
      for (const [cell, tier] of lines.slice(0, -ports.length)) expect(tier, cell).toBe(t.assign.get(topInstanceOf(cell)) === "top" ? "1" : "0"); // the top's own ties: bottom
    }
  });

  it("3Dblox: bump maps mate (same names and coordinates), one bond per F2F bit at the pitch inside the die; top die mirrored MZ", () => {
    for (const m of MODES3D) {
      const t = views.get(m)!;
      const name = `pt_${tag[m]}`;
      const manifest = JSON.parse(file(t, "3d/3d_manifest.json").content);
      const b = parseBmap(file(t, `3d/${name}_tier_bottom.bmap`).content);
      const u = parseBmap(file(t, `3d/${name}_tier_top.bmap`).content);
      expect(b.length).toBe(manifest.bonds);
      expect(u.map((x) => [x.name, x.x, x.y, x.port])).toEqual(b.map((x) => [x.name, x.x, x.y, x.port]));
      const side = Math.sqrt(manifest.footprintUm2);
      const seen = new Set<string>();
      for (const x of b) {
        expect(x.x).toBeGreaterThan(0);
        expect(x.y).toBeGreaterThan(0);
        expect(x.x).toBeLessThan(side + 0.01);
        expect(x.y).toBeLessThan(side + 0.01);
        const k = `${Math.round(x.x)}:${Math.round(x.y)}`;
        expect(seen.has(k), k).toBe(false);
        seen.add(k);
      }
      // every bit of every F2F port of the tier tops has its bump
      const ports = parsePorts(file(t, `${name}_tier_bottom.v`).content, `${name}_tier_bottom`).filter((p) => p.name.startsWith("f2f_"));
      const bits = ports.flatMap((p) => (p.width === 1 ? [p.name] : Array.from({ length: p.width }, (_, i) => `${p.name}[${i}]`)));
      expect(b.map((x) => x.port).sort()).toEqual(bits.sort());
      const dbx = file(t, `3d/${name}.3dbx`).content;
      expect(dbx).toMatch(/u_tier_top:\n\s+loc: \[0\.0, 0\.0\]\n\s+z: 300\.0\n\s+orient: MZ/);
      expect(dbx).toContain(`include:\n    - ${name}.3dbv`);
      const dbv = file(t, `3d/${name}.3dbv`).content;
      expect(dbv).toContain(`bmap: ${name}_tier_top.bmap`);
      expect(dbv).toContain("VDD_TOP");
      expect(dbv).toContain("VSS_BOT");
    }
  });
});

// ---------------------------------------------------------------- equivalence on both simulators

describe("2D / 3D equivalence (synthetic design, registers crossing tiers)", () => {
  const assemblies = MODES3D.map((m) => `pt_${tag[m]}_3d`);
  const tb = renderEquivTb("pt_equiv_tb", nl.ports, "pt_top", assemblies, 600);
  const dir = path.join(work, "equiv");
  let paths: string[] = [];
  const built = new Map<string, Built>();

  beforeAll(() => {
    const rtl = MODES3D.flatMap((m) => views.get(m)!.files.filter((f) => f.kind === "rtl"));
    paths = write([...designFiles, ...rtl, tb.file], dir);
    for (const seed of [1, 2, 3]) writeEquivStimulus(tb, path.join(dir, `seed${seed}`), seed);
  });

  for (const sim of SIMS)
    it(`${sim}: every output equal every cycle, 3 random stimuli, every 3D mode`, async () => {
      const b = await buildSim(sim, paths, "pt_equiv_tb", dir);
      built.set(sim, b);
      for (const seed of [1, 2, 3]) {
        const res = await runSimExpectPass(b, [`+data=${path.join(dir, `seed${seed}`)}`], seed);
        expect(res.lines).toContain("CHECKS 600");
        expect(simValue(res, "ACTIVE")).toBeGreaterThan(400);
      }
    });

  it("the testbench fails when an F2F wire is corrupted", async () => {
    const t = views.get("logic-on-logic")!;
    const bad = file(t, "pt_lol_tier_top.v").content.replace("assign x_am = f2f_x_am;", "assign x_am = ~f2f_x_am;");
    expect(bad).not.toBe(file(t, "pt_lol_tier_top.v").content);
    const bdir = path.join(work, "equiv_bad");
    const badFiles = [...designFiles, ...MODES3D.flatMap((m) => views.get(m)!.files.filter((f) => f.kind === "rtl")), tb.file].map((f) => (f.path === "pt_lol_tier_top.v" ? { ...f, content: bad } : f));
    const b = await buildSim("icarus", write(badFiles, bdir), "pt_equiv_tb", bdir);
    const res = await runSim(b, [`+data=${path.join(dir, "seed1")}`]);
    expect(res.pass).toBe(false);
    expect(res.output).toMatch(/MISMATCH cycle \d+ pt_lol_3d\.out_data/);
  });
});

// ---------------------------------------------------------------- the real accelerator (tiny preset)

describe("the accelerator, tiny preset", () => {
  // the 2D design: the 3D views of every mode are built from it below
  const base = resolve(parseConfig({ ...loadConfig("tiny"), integration: { ...loadConfig("tiny").integration, mode: "2d" } }));
  const design = buildDesign(base);
  const accNl = design.acc.netlist;
  const rtlSim = design.files.filter((f) => (f.kind === "rtl" || f.kind === "sim") && f.path.endsWith(".v"));
  const real = new Map<Mode, ThreeD>();
  const rdir = path.join(work, "tiny");
  const name = base.name;

  let tinyMods: Map<string, ModuleSynth>;
  beforeAll(async () => {
    const s = await synthAreas(design.files, accNl, synthCfg);
    tinyMods = s.mods;
    const flat = await flatNetlist(accNl.module, s.mods, synthCfg, false);
    for (const m of MODES3D) real.set(m, buildThreeD({ ...base, integration: { ...base.integration, mode: m } }, design.files, accNl, { areas: s.areas, flat }));
  });

  it("bond count = total F2F port width of the tier tops, for every mode", () => {
    for (const m of MODES3D) {
      const t = real.get(m)!;
      const manifest = JSON.parse(file(t, "3d/3d_manifest.json").content);
      for (const tier of ["bottom", "top"]) {
        const ports = parsePorts(file(t, `${name}_tier_${tier}.v`).content, `${name}_tier_${tier}`);
        expect(ports.filter((p) => p.name.startsWith("f2f_")).reduce((a, p) => a + p.width, 0), `${m} ${tier}`).toBe(manifest.bonds);
      }
      expect(manifest.bonds).toBe(t.stats!.cut);
      expect(manifest.areaSource).toMatch(/osu018_stdcells/);
      expect(manifest.bondMargin).toBeGreaterThan(0);
    }
  });

  it("auto cuts no more than memory-on-logic and logic-on-logic when they meet the same balance bound", () => {
    const cut = real.get("auto")!.cutByMode!;
    expect(cut.auto.balanceOk).toBe(true);
    for (const m of ["memory-on-logic", "logic-on-logic"] as Mode[]) if (cut[m].balanceOk) expect(cut.auto.cut, m).toBeLessThanOrEqual(cut[m].cut);
  });

  it("tier tops and assemblies lint clean (verilator -Wall)", async () => {
    for (const m of MODES3D) {
      const dir = path.join(rdir, tag[m]);
      const paths = write([...rtlSim, ...real.get(m)!.files.filter((f) => f.kind === "rtl")], dir);
      for (const mod of [`${name}_tier_bottom`, `${name}_tier_top`, `${name}_3d`]) {
        const lint = await verilatorLint(paths, mod);
        expect(lint.warnings, `${m} ${mod}\n${lint.output}`).toEqual([]);
      }
    }
  });

  it("each tier top maps on its own over the mapped modules (hierarchy -check), no assign, every instance of its tier once", async () => {
    // one mode here (the tier renderer is mode-independent; the synthetic design runs every mode)
    for (const m of ["auto"] as Mode[]) {
      const t = real.get(m)!;
      const tops = [`${name}_tier_bottom`, `${name}_tier_top`];
      const mods = await synthModules([...design.files, ...t.files.filter((f) => f.kind === "rtl")], [...new Set(accNl.instances.map((i) => i.module))], tops, synthCfg);
      for (const tier of ["bottom", "top"] as Tier[]) {
        const r = mods.get(`${name}_tier_${tier}`)!;
        expect(r.latches).toBe(0);
        expect(fs.readFileSync(r.verilog, "utf8")).not.toMatch(/\bassign\b/);
        const insts = accNl.instances.filter((i) => t.assign.get(i.name) === tier);
        const want: Record<string, number> = {};
        for (const i of insts) want[i.module] = (want[i.module] ?? 0) + 1;
        const got = Object.fromEntries(Object.entries(r.cells).filter(([c]) => tinyMods.has(c)));
        expect(got, `${m} ${tier}`).toEqual(want);
      }
    }
  });

  it("Icarus: the 3D assemblies of every mode match the 2D top every cycle under random host traffic", async () => {
    const assemblies = MODES3D.map((m) => `${name}_${tag[m]}_3d`);
    // one design name per mode so the three assemblies coexist: rename the 3D modules only
    const rename = (m: Mode, f: GeneratedFile): GeneratedFile => ({
      ...f,
      path: f.path.replace(`${name}_`, `${name}_${tag[m]}_`),
      content: f.content.replaceAll(`${name}_tier_`, `${name}_${tag[m]}_tier_`).replaceAll(`${name}_3d`, `${name}_${tag[m]}_3d`),
    });
    const rtl3d = MODES3D.flatMap((m) => real.get(m)!.files.filter((f) => f.kind === "rtl").map((f) => rename(m, f)));
    const tb = renderEquivTb(`${name}_equiv_tb`, accNl.ports, design.acc.top, assemblies, 3000);
    const dir = path.join(rdir, "equiv");
    const paths = write([...rtlSim, ...rtl3d, tb.file], dir);
    const regions = design.acc.ctrl.hostMems.length + 2;
    const gen = {
      host_req_valid: (g: Prng) => BigInt(g.bit(0.4)),
      host_req_write: (g: Prng) => BigInt(g.bit(0.7)),
      host_req_addr: (g: Prng) => (BigInt(g.int(0, regions - 1)) << 24n) | BigInt(g.bit(0.2) ? 0 : g.int(0, 63)),
    };
    writeEquivStimulus(tb, path.join(dir, "seed1"), 1, 3, gen);
    const b = await buildSim("icarus", paths, `${name}_equiv_tb`, dir);
    const res = await runSimExpectPass(b, [`+data=${path.join(dir, "seed1")}`]);
    expect(res.lines).toContain("CHECKS 3000");
    expect(simValue(res, "ACTIVE")).toBeGreaterThan(1000);
  });
});
