/**
 * The tiny preset through the whole physical flow on OSU018, as a user runs it:
 * `st3d synth tiny`, `st3d run` (RTL, activity) at two spike densities, `st3d timing tiny
 * --activity`, and the gate-level netlist through `st3d run --netlist` against the golden model.
 * Every check compares against an independent computation (liberty areas from the netlist's own
 * cell list, Yosys' `stat -liberty`, run.json's counts x the SRAM model, the golden model).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.ts";
import { resolve } from "../config/resolve.ts";
import { loadLibrary } from "./library.ts";
import { instancesOfVerilog } from "./netlist.ts";
import { flatView, macroModels, synthModules, type ModuleSynth } from "./synth.ts";
import { designFor } from "./design.ts";
import { floorplanDistances, shelfFloorplan } from "./floorplan.ts";
import { interInstanceParasitics } from "./parasitics.ts";
import { runSta } from "./sta.ts";
import type { PhysicalReport } from "./flow.ts";
import { run } from "../toolchain/tools.ts";
import { readNpy } from "../util/npy.ts";

const ST3D = path.resolve("bin/st3d.js");
const st3d = (args: string[], env: Record<string, string> = {}) => execa("node", [ST3D, ...args], { reject: false, all: true, env: { ...process.env, ST3D_PROGRESS: "plain", ...env } });
const root = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-flow-"));
const lib = loadLibrary();
const r = resolve(loadConfig("tiny"));

let synthRep: PhysicalReport;
let rep: Record<"01" | "03", PhysicalReport> = {} as never;
let runs: Record<"01" | "03", Record<string, unknown>> = {} as never;
let mods: Map<string, ModuleSynth>;
let timingOut = "";

beforeAll(async () => {
  const s = await st3d(["synth", "tiny", "-o", path.join(root, "synth")]);
  expect(s.exitCode, s.all).toBe(0);
  synthRep = JSON.parse(fs.readFileSync(path.join(root, "synth", "report.json"), "utf8"));
  for (const d of ["01", "03"] as const) {
    const m = path.join(root, `m${d}`);
    const g = await st3d(["random-model", "tiny", "--seed", "7", "--density", `0.${d.slice(1)}`, "-o", m]);
    expect(g.exitCode, g.all).toBe(0);
    const o = path.join(root, `run${d}`);
    const x = await st3d(["run", "-c", "tiny", "-w", path.join(m, "weights"), "-i", path.join(m, "input.npy"), "-o", o, "--sim", "verilator"]);
    expect(x.exitCode, x.all).toBe(0);
    runs[d] = JSON.parse(fs.readFileSync(path.join(o, "run.json"), "utf8"));
    const t = await st3d(["timing", "tiny", "-o", path.join(root, `timing${d}`), "--activity", path.join(o, "run.json")]);
    expect(t.exitCode, t.all).toBe(0);
    if (d === "01") timingOut = t.all ?? "";
    rep[d] = JSON.parse(fs.readFileSync(path.join(root, `timing${d}`, "report.json"), "utf8"));
  }
  const d = await designFor(r, { progressLabel: false });
  mods = await synthModules(d.files, [...new Set(d.acc.netlist.instances.map((i) => i.module))], d.tops, { lib, clockMHz: synthRep.clock.targetMHz, progressLabel: false });
});

describe("st3d synth tiny (OSU018)", () => {
  it("areas per instance and per tier in µm², 0 latches, views add up", () => {
    for (const v of ["2d", "3d"] as const) {
      const view = synthRep.views[v]!;
      expect(view.latches).toBe(0);
      for (const i of view.instances) {
        expect(i.areaUm2, i.inst).toBeGreaterThan(0);
        expect(i.latches).toBe(0);
      }
      const tiers = Object.values(view.tiers);
      expect(tiers.reduce((a, t) => a + t!.areaUm2, 0)).toBeCloseTo(view.areaUm2, 0);
      // per tier: its instances + the tier top's own cells (buffers of F2F pass-throughs)
      for (const [t, x] of Object.entries(view.tiers)) {
        const own = view.instances.filter((i) => i.tier === t).reduce((a, i) => a + i.areaUm2, 0);
        expect(x!.areaUm2).toBeGreaterThanOrEqual(own - 0.5);
      }
    }
    // memory-on-logic: every memory on the top die
    for (const i of synthRep.views["3d"]!.instances) expect(i.tier, i.inst).toBe(i.kind === "memory" ? "top" : "bottom");
    // macros are priced by the SRAM model at 180 nm, which the report lists with its constants
    const wp = synthRep.views["2d"]!.instances.find((i) => i.inst === "u_mem_p_wp0")!;
    expect(wp.macros).toEqual({ fakeram45_256x32: 1 });
    const model = synthRep.sramModel.macros.find((m) => m.macro === "fakeram45_256x32")!;
    expect(wp.macroAreaUm2).toBeCloseTo(model.areaUm2, 0);
    expect(synthRep.sramModel.constants.map((c) => c.name)).toContain("energyFactor");
  });

  it("the area of every module recomputed from its mapped netlist's cell list and the liberty; Yosys stat -liberty agrees", async () => {
    for (const m of mods.values()) {
      const text = fs.readFileSync(m.verilog, "utf8");
      expect(text, m.module).not.toMatch(/\bassign\b/);
      const cells = instancesOfVerilog(text);
      const macro = macroModels(lib, m.cells);
      let std = 0;
      let mac = 0;
      for (const c of cells) {
        if (lib.lib.cells.has(c.type)) std += lib.lib.cells.get(c.type)!.area;
        else if (macro.has(c.type)) mac += macro.get(c.type)!.areaUm2;
        else if (!c.type.startsWith("ST3D_TIE") && !mods.has(c.type)) throw new Error(`${m.module}: unknown cell ${c.type}`);
        expect(c.type.startsWith("$"), `${m.module}: generic cell ${c.type}`).toBe(false);
      }
      expect(std, m.module).toBeCloseTo(m.stdCellAreaUm2, 3);
      expect(mac, m.module).toBeCloseTo(m.macroAreaUm2, 3);
    }
    // Yosys' own count on the biggest module (reading only the written netlist)
    const big = [...mods.values()].filter((m) => !m.top).sort((a, b) => b.cellCount - a.cellCount)[0];
    const dir = fs.mkdtempSync(path.join(root, "stat-"));
    const y = await run("yosys", ["-q", "-p", `read_liberty -lib ${lib.liberty}; read_verilog ${big.verilog}; hierarchy -top ${big.module}; tee -o ${path.join(dir, "stat.txt")} stat -liberty ${lib.liberty}`]);
    expect(y.code, y.output).toBe(0);
    const area = Number(fs.readFileSync(path.join(dir, "stat.txt"), "utf8").match(/Chip area for module '[^']*':\s*([0-9.]+)/)![1]);
    expect(area).toBeCloseTo(big.stdCellAreaUm2, 1);
  });

  it("a second synthesis is served from the cache", () => {
    expect(rep["03"].synthesis.cachedModules).toBe(rep["03"].synthesis.modules.length);
  });
});

describe("st3d timing tiny", () => {
  it("fmax, WNS, TNS and the critical path for 2D and memory-on-logic", () => {
    expect(timingOut).toMatch(/critical path: /);
    expect(timingOut).toMatch(/fmax [0-9.]+ MHz/);
    for (const v of ["2d", "3d"] as const) {
      const t = rep["01"].views[v]!.timing!;
      expect(t.fmaxMHz).toBeGreaterThan(10);
      expect(t.fmaxMHz).toBeCloseTo(1000 / (t.periodNs - t.worstSlackNs), 2); // the report rounds slacks to 0.1 ps
      expect(t.fEffMHz).toBeCloseTo(1000 / (t.periodNs - t.wnsNs), 2);
      expect(t.wnsNs).toBeLessThanOrEqual(0);
      const c = t.critical!;
      expect(c.startpoint.length).toBeGreaterThan(0);
      expect(c.endpoint.length).toBeGreaterThan(0);
      expect(c.blocks.length).toBeGreaterThan(0);
      expect(c.blocks.reduce((a, b) => a + b.delayNs, 0)).toBeCloseTo(c.arrivalNs, 2);
      const insts = new Set(rep["01"].views[v]!.instances.map((i) => i.inst));
      for (const b of c.blocks) expect(insts.has(b.block) || b.block === "<top>", b.block).toBe(true);
      expect(t.parasitics.bits).toBeGreaterThan(100);
      // every instance with flip-flops or macros has the slack of the paths that end in it
      for (const i of rep["01"].views[v]!.instances) if (i.flops || Object.keys(i.macros).length) expect(i.worstSlackNs, i.inst).not.toBeNull();
    }
    // the 3D view crosses the bond, and carries a wire on every inter-instance bit the 2D view does
    expect(rep["01"].views["3d"]!.bonds).toBeGreaterThan(0);
    expect(rep["01"].views["3d"]!.timing!.parasitics.bits).toBe(rep["01"].views["2d"]!.timing!.parasitics.bits);
    expect(rep["01"].views["3d"]!.timing!.parasitics.bondBranches).toBeGreaterThanOrEqual(0.9 * rep["01"].views["3d"]!.bonds);
  });

  it("timing responds to the wires: the same netlist with 30x longer inter-instance wires is slower", async () => {
    const d = await designFor(r, { progressLabel: false });
    const top = d.acc.top;
    const cfg = { lib, clockMHz: synthRep.clock.targetMHz, progressLabel: false as const };
    const fv = await flatView(top, mods, cfg);
    const flat = JSON.parse(fs.readFileSync(fv.json, "utf8")).modules[top];
    const fp = shelfFloorplan(
      d.acc.netlist.instances.map((i) => ({ name: i.name, areaUm2: mods.get(i.module)!.areaUm2 })),
      () => "bottom",
    );
    const base = floorplanDistances(fp);
    const far = { branch: (a: string, b: string) => ({ ...base.branch(a, b), lengthUm: 30 * base.branch(a, b).lengthUm }), describe: () => "x30" };
    const slack: number[] = [];
    for (const dist of [base, far]) {
      const par = interInstanceParasitics(lib, top, structuredClone(flat), d.acc.netlist, dist, null, lib.wire!);
      const s = await runSta({ top, lib, netlist: fv.verilog, extraLibs: fv.extraLibs, periodNs: 1000 / cfg.clockMHz, spef: par.spef, threeD: false, dir: path.join(root, `far-${slack.length}`), power: false });
      slack.push(s.worstSlackNs);
    }
    expect(slack[1]).toBeLessThan(slack[0] - 0.5);
  });
});

describe("energy per inference (tiny, activity of the RTL run)", () => {
  it("rises with spike density (random models at 0.1 and 0.3), and the breakdown sums to the total", () => {
    for (const v of ["2d", "3d"] as const) {
      const e1 = rep["01"].views[v]!.energy!;
      const e3 = rep["03"].views[v]!.energy!;
      expect(Number(runs["03"].spikes)).toBeGreaterThan(Number(runs["01"].spikes));
      expect(e3.totalPj, v).toBeGreaterThan(e1.totalPj);
      for (const e of [e1, e3]) {
        const b = e.breakdownPj;
        for (const [k, x] of Object.entries(b)) expect(x, k).toBeGreaterThanOrEqual(0);
        expect(b.dram).toBe(0); // weights on chip: no off-chip term
        expect(b.sram + b.logic + b.wires + b.leakage + b.dram).toBeCloseTo(e.totalPj, 6);
        expect(e.energyNj).toBeCloseTo(e.totalPj / 1000, 9);
        expect(e.averagePowerMw).toBeCloseTo((e.totalPj * 1e-12) / e.seconds / 1e-3, 6);
        expect(e.seconds).toBeCloseTo(e.cycles / (e.fEffMHz * 1e6), 12);
        // per-block energies add up to everything but the wires (and the tops' own glue)
        expect(e.blocks.reduce((a, x) => a + x.totalPj, 0)).toBeLessThanOrEqual(e.totalPj - b.wires + 1e-6);
      }
    }
  });

  it("the SRAM term is the run's access counts times the model's energy per access", () => {
    const act = runs["01"].activity as { macros: { path: string; macro: string; reads: number; writes: number }[]; memories: Record<string, { reads: number; writes: number }> };
    const model = new Map(rep["01"].sramModel.macros.map((m) => [m.macro, m]));
    const expected = act.macros.reduce((a, m) => a + m.reads * model.get(m.macro)!.readPj + m.writes * model.get(m.macro)!.writePj, 0);
    expect(rep["01"].views["2d"]!.energy!.breakdownPj.sram).toBeCloseTo(expected, 1);
    // tiny's SRAM macros: the pool's two weight banks (the other memories are flip-flops)
    expect(act.macros.map((m) => m.path.split(".")[2]).sort()).toEqual(["u_mem_p_wp0", "u_mem_p_wp1"]);
    // tiny's weight memories are one macro each: the macro sees exactly the logical accesses
    for (const m of act.macros) {
      const inst = m.path.split(".")[2];
      expect(act.memories[inst], inst).toEqual({ module: expect.any(String), reads: m.reads, writes: m.writes });
    }
    expect(expected).toBeGreaterThan(0);
  });
});

describe("gate-level simulation (st3d run --netlist)", () => {
  it("the mapped netlist of tiny on Icarus (OSU018 cell models) gives output.npy identical to the golden model", async () => {
    const m = path.join(root, "m01");
    const gold = path.join(root, "gold");
    const gl = path.join(root, "gl");
    expect((await st3d(["run", "-c", "tiny", "-w", path.join(m, "weights"), "-i", path.join(m, "input.npy"), "-o", gold, "--golden"])).exitCode).toBe(0);
    const x = await st3d(["run", "-c", "tiny", "-w", path.join(m, "weights"), "-i", path.join(m, "input.npy"), "-o", gl, "--sim", "icarus", "--netlist"]);
    expect(x.exitCode, x.all).toBe(0);
    expect(x.all).toMatch(/gate-level/);
    const a = readNpy(path.join(gold, "output.npy"));
    const b = readNpy(path.join(gl, "output.npy"));
    expect(b.shape).toEqual([r.T, r.N, r.D]);
    expect(b.data).toEqual(a.data);
    expect(JSON.parse(fs.readFileSync(path.join(gl, "run.json"), "utf8")).netlist).toMatchObject({ cells: "library", library: "osu018_stdcells" });
    // the RTL run of the same model took as many cycles
    expect(JSON.parse(fs.readFileSync(path.join(gl, "run.json"), "utf8")).cycles).toBe(runs["01"].cycles);
  });
});

describe("st3d generate with synthesized areas (auto, --physical)", () => {
  it("prints progress lines at most 5 s apart, and the manifest's areas come from the liberty", async () => {
    const cfg = path.join(root, "tiny_auto.json");
    fs.writeFileSync(cfg, JSON.stringify({ ...loadConfig("tiny"), integration: { ...loadConfig("tiny").integration, mode: "auto" } }));
    const out = path.join(root, "gen-auto");
    const stamps: number[] = [];
    let err = "";
    const t0 = Date.now();
    const p = execa("node", [ST3D, "generate", cfg, "-o", out, "--physical"], { reject: false, env: { ...process.env, ST3D_PROGRESS: "plain" } });
    p.stderr!.on("data", (d: Buffer) => {
      stamps.push(Date.now());
      err += d.toString();
    });
    const res = await p;
    expect(res.exitCode, `${res.stdout}\n${err}`).toBe(0);
    expect(err).toMatch(/\[generate: synth\] started \(\d+ modules\)/);
    expect(err).toMatch(/\[generate: synth\] \d+ modules mapped onto osu018_stdcells/);
    const all = [t0, ...stamps, Date.now()];
    const gaps = all.slice(1).map((t, i) => t - all[i]);
    expect(Math.max(...gaps)).toBeLessThan(5000 + 1500);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, "3d", "3d_manifest.json"), "utf8"));
    expect(manifest.areaSource).toMatch(/osu018_stdcells liberty/);
    const part = fs.readFileSync(path.join(out, "3d", "partition.txt"), "utf8").trim().split("\n");
    // one line per cell of the flat mapped netlist, on the tier of its top-level instance
    expect(part.length).toBeGreaterThan(50000);
    const tierOf = new Map<string, string>();
    for (const [t, side] of [["bottom", "0"], ["top", "1"]] as const) for (const i of manifest.tiers[t].instances as { name: string }[]) tierOf.set(i.name, side);
    expect(new Set([...tierOf.values()])).toEqual(new Set(["0", "1"]));
    for (const l of part) {
      const [cell, side] = l.split(" ");
      const inst = cell.split(".")[0];
      if (tierOf.has(inst)) expect(side, l).toBe(tierOf.get(inst));
    }
    expect(tierOf.get("u_pool")).toBeDefined();
    expect(tierOf.get("u_dataflow")).toBeDefined();
    expect(res.stdout).toMatch(/generated \d+ files/);
  });
});
