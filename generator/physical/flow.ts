/**
 * `st3d synth` and `st3d timing`: synthesis of every module (./synth.ts), areas per instance,
 * tier and view; with timing, OpenSTA on the 2D top and on the 3D assembly (./sta.ts) with the
 * inter-instance wires of a floorplan (./floorplan.ts, ./parasitics.ts); with an activity
 * (run.json of `st3d run`), the energy per inference (./power.ts).  Results: `<out>/report.json`
 * (stable keys, docs/PHYSICAL.md), `<out>/report.txt` (the console table), and per view the
 * SDC, SPEF, Tcl and OpenSTA log under `<out>/<view>/`.
 */
import fs from "node:fs";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import type { Design } from "../design.ts";
import type { Tier } from "../top/netlist.ts";
import { withProgress } from "../progress/progress.ts";
import { designFor, synthConfig, type PhysicalOptions } from "./design.ts";
import { abcScript, flatView, macroModels, synthModules, SYNTH_SCRIPT_VERSION, type ModuleSynth } from "./synth.ts";
import { MAX_FANOUT, type CellLibrary } from "./library.ts";
import { sramModelConstants } from "../blocks/memory/sramModel.ts";
import { floorplanDistances, shelfFloorplan, type DistanceSource, type Floorplan } from "./floorplan.ts";
import { BOND_RC, branchTable, type Parasitics } from "./parasitics.ts";
import { inWorker } from "./worker.ts";
import { IO_PCT, runSta, type StaResult } from "./sta.ts";
import { energyPerInference, type EnergyReport } from "./power.ts";
import type { Activity } from "./activity.ts";

export type ViewName = "2d" | "3d";

export interface FlowOptions extends PhysicalOptions {
  /** output folder (report.json, report.txt, per-view STA files) */
  out: string;
  timing?: boolean;
  /** run.json of `st3d run` (its `activity`): adds the energy per inference */
  run?: { path: string; json: Record<string, unknown> };
  /** replace the shelf floorplan (per view) */
  distances?: (view: ViewName, fp: Floorplan) => DistanceSource;
}

export interface InstanceRow {
  inst: string;
  module: string;
  kind: string;
  group: string;
  tier: Tier;
  areaUm2: number;
  stdCellAreaUm2: number;
  macroAreaUm2: number;
  cells: number;
  flops: number;
  latches: number;
  macros: Record<string, number>;
  /** worst slack of the paths that end in the instance, ns (timing) */
  worstSlackNs: number | null;
  wnsNs: number | null;
  fmaxMHz: number | null;
  energyPj: number | null;
}

export interface ViewReport {
  view: ViewName;
  top: string;
  mode: string;
  areaUm2: number;
  footprintUm2: number;
  cells: number;
  latches: number;
  tiers: Partial<Record<Tier, { module: string; areaUm2: number; cells: number; instances: number; energyPj: number | null }>>;
  bonds: number;
  instances: InstanceRow[];
  timing: null | {
    periodNs: number;
    worstSlackNs: number;
    wnsNs: number;
    tnsNs: number;
    fmaxMHz: number;
    fEffMHz: number;
    critical: StaResult["critical"];
    parasitics: { nets: number; bits: number; bondBranches: number; wire: Parasitics["wire"]; bond: Parasitics["bond"]; distances: string; floorplan: { kind: string; dieWidthUm: number; dieHeightUm: Record<Tier, number> } };
    staSeconds: number;
  };
  energy: null | EnergyReport;
}

export interface PhysicalReport {
  generator: string;
  design: string;
  configHash: string;
  library: { name: string; liberty: string; lef: string | null; cellModels: string | null; nodeNm: number; nodeSource: string; voltageV: number; buffer: string; maxFanout: number; tieCells: string; wire: CellLibrary["wire"] | null };
  clock: { targetMHz: number; periodNs: number; source: string; ioDelayFraction: number };
  synthesis: { script: string; abcScript: string; modules: { module: string; cells: number; areaUm2: number; stdCellAreaUm2: number; macroAreaUm2: number; flops: number; latches: number; fanoutBuffers: number; ties: number; yosysAreaUm2: number | null; cached: boolean }[]; cachedModules: number; wallSeconds: number };
  sramModel: { constants: ReturnType<typeof sramModelConstants>; macros: { macro: string; ports: string; depth: number; width: number; areaUm2: number; clkToQNs: number; setupNs: number; holdNs: number; readPj: number; writePj: number; leakageNw: number; source: string }[] };
  run: null | { path: string; simulator: unknown; view: unknown; cycles: unknown; synapticOps: unknown; spikes: unknown };
  views: Partial<Record<ViewName, ViewReport>>;
  wallSeconds: { synth: number; timing: number | null; total: number };
}

const r1 = (v: number) => Math.round(v * 10) / 10;
const r4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Run the flow; writes the report files and returns the report. */
export async function physicalFlow(r: Resolved, opts: FlowOptions): Promise<PhysicalReport> {
  const t0 = Date.now();
  const cfg = synthConfig(r, opts);
  const lib = cfg.lib;
  const d: Design = await designFor(r, { ...opts, progressLabel: opts.progressLabel ?? "synth" });
  const modules = [...new Set(d.acc.netlist.instances.map((i) => i.module))];
  const mods = await synthModules(d.files, modules, d.tops, { ...cfg, progressLabel: opts.progressLabel ?? "synth" });
  const tSynth = (Date.now() - t0) / 1000;
  const nl = d.acc.netlist;
  const assign = d.threeD?.assign;
  const viewsToDo: ViewName[] = assign && d.tops.includes(`${r.name}_3d`) ? ["2d", "3d"] : ["2d"];
  const views: Partial<Record<ViewName, ViewReport>> = {};
  const activity = opts.run ? (opts.run.json.activity as Activity | null | undefined) : undefined;
  if (opts.run) {
    if (opts.run.json.configHash !== r.hash) throw new Error(`${opts.run.path} is a run of config hash ${String(opts.run.json.configHash)}, not of this config (${r.hash}); rerun st3d run with the same config`);
    if (!activity) throw new Error(`${opts.run.path} has no 'activity' (made by an st3d without activity counters, or by --golden); rerun st3d run`);
  }
  const t1 = Date.now();
  for (const v of viewsToDo) {
    const tierOf = (inst: string): Tier => (v === "2d" ? "bottom" : assign!.get(inst)!);
    const top = v === "2d" ? d.acc.top : `${r.name}_3d`;
    const rows: InstanceRow[] = nl.instances.map((i) => {
      const m = mods.get(i.module)!;
      return { inst: i.name, module: i.module, kind: i.kind, group: i.group, tier: tierOf(i.name), areaUm2: r1(m.areaUm2), stdCellAreaUm2: r1(m.stdCellAreaUm2), macroAreaUm2: r1(m.macroAreaUm2), cells: m.cellCount, flops: m.flops, latches: m.latches, macros: m.macros, worstSlackNs: null, wnsNs: null, fmaxMHz: null, energyPj: null };
    });
    const tierTops: Record<Tier, string> = v === "2d" ? ({ bottom: d.acc.top } as Record<Tier, string>) : { bottom: `${r.name}_tier_bottom`, top: `${r.name}_tier_top` };
    const tiers: ViewReport["tiers"] = {};
    for (const t of v === "2d" ? (["bottom"] as Tier[]) : (["bottom", "top"] as Tier[])) {
      const mine = rows.filter((x) => x.tier === t);
      const glue = mods.get(tierTops[t]);
      tiers[t] = { module: tierTops[t], areaUm2: r1(mine.reduce((a, x) => a + x.areaUm2, 0) + (glue?.areaUm2 ?? 0)), cells: mine.reduce((a, x) => a + x.cells, 0) + (glue ? glue.cellCount - countInstances(glue, mods) : 0), instances: mine.length, energyPj: null };
    }
    const areaUm2 = r1(Object.values(tiers).reduce((a, x) => a + x!.areaUm2, 0));
    const rep: ViewReport = {
      view: v,
      top,
      mode: v === "2d" ? "2d" : r.integration.mode,
      areaUm2,
      footprintUm2: r1(Math.max(...Object.values(tiers).map((x) => x!.areaUm2))),
      cells: Object.values(tiers).reduce((a, x) => a + x!.cells, 0),
      latches: rows.reduce((a, x) => a + x.latches, 0),
      tiers,
      bonds: v === "3d" ? (d.threeD?.f2f.reduce((a, f) => a + f.width, 0) ?? 0) : 0,
      instances: rows,
      timing: null,
      energy: null,
    };
    if (opts.timing) {
      await withProgress(`timing ${v}`, async (p) => {
        p.log(`flattening ${top} over the mapped modules, OpenSTA with the inter-instance wires ...`);
        const fv = await flatView(top, mods, cfg);
        const fp = shelfFloorplan(
          rows.map((x) => ({ name: x.inst, areaUm2: x.areaUm2 })),
          (i) => tierOf(i),
        );
        const dist = opts.distances ? opts.distances(v, fp) : floorplanDistances(fp);
        if (!lib.wire) throw new Error(`no wire R/C: pass --lef with the routing layers of ${lib.name} (the per-um resistance and capacitance come from its LAYER RESISTANCE/CAPACITANCE)`);
        fs.mkdirSync(path.join(opts.out, v), { recursive: true });
        const spefFile = path.resolve(opts.out, v, `${top}.spef`);
        const par = await inWorker<Omit<Parasitics, "spef">>(new URL("./parasitics.ts", import.meta.url).href, "parasiticsJob", {
          libOptions: lib.options,
          top,
          flatJson: fv.json,
          nl,
          branches: branchTable(nl, dist),
          distances: dist.describe(),
          tierOf: v === "2d" ? null : Object.fromEntries(nl.instances.map((i) => [i.name, tierOf(i.name)])),
          wire: lib.wire,
          spefFile,
        });
        const sta = await runSta({ top, lib, netlist: fv.verilog, extraLibs: fv.extraLibs, periodNs: 1000 / cfg.clockMHz, spefFile, threeD: v === "3d", dir: path.join(opts.out, v) });
        rep.timing = {
          periodNs: sta.periodNs,
          worstSlackNs: r4(sta.worstSlackNs),
          wnsNs: r4(sta.wnsNs),
          tnsNs: r4(sta.tnsNs),
          fmaxMHz: r4(sta.fmaxMHz),
          fEffMHz: r4(sta.fEffMHz),
          critical: sta.critical,
          parasitics: { nets: par.nets.length, bits: par.bits, bondBranches: par.bondBranches, wire: par.wire, bond: par.bond, distances: par.distances, floorplan: { kind: fp.kind, dieWidthUm: r1(fp.dieWidthUm), dieHeightUm: { bottom: r1(fp.dieHeightUm.bottom), top: r1(fp.dieHeightUm.top) } } },
          staSeconds: r1(sta.seconds),
        };
        for (const row of rows) {
          const s = sta.blockSlackNs[row.inst];
          if (s === undefined) continue;
          row.worstSlackNs = r4(s);
          row.wnsNs = r4(Math.min(0, s));
          row.fmaxMHz = r4(1000 / (sta.periodNs - s));
        }
        if (activity) {
          const e = energyPerInference({ lib, nl, mods, sta, activity, wires: par.nets, synapticOps: Number(opts.run!.json.synapticOps ?? 0), offchipBytes: Number((opts.run!.json.offchip as { bytesRead?: number } | null | undefined)?.bytesRead ?? 0) });
          rep.energy = e;
          const byBlock = new Map(e.blocks.map((b) => [b.block, b.totalPj]));
          for (const row of rows) row.energyPj = r1(byBlock.get(row.inst) ?? 0);
          for (const t of Object.keys(tiers) as Tier[]) tiers[t]!.energyPj = r1(rows.filter((x) => x.tier === t).reduce((a, x) => a + (x.energyPj ?? 0), 0));
        }
        p.done(`${v}: fmax ${sta.fmaxMHz.toFixed(1)} MHz, WNS ${sta.wnsNs.toFixed(3)} ns (OpenSTA ${sta.seconds.toFixed(0)} s)`);
      });
    }
    views[v] = rep;
  }
  const macroList = new Map<string, ReturnType<typeof macroModels> extends Map<string, infer V> ? V : never>();
  for (const m of mods.values()) for (const [t, s] of macroModels(lib, m.cells)) macroList.set(t, s);
  const report: PhysicalReport = {
    generator: `st3d ${r.version}`,
    design: r.name,
    configHash: r.hash,
    library: {
      name: lib.name,
      liberty: lib.liberty,
      lef: lib.lef ?? null,
      cellModels: lib.cellModels ?? null,
      nodeNm: lib.nodeNm,
      nodeSource: lib.nodeSource,
      voltageV: lib.voltage,
      buffer: lib.buffer.cell,
      maxFanout: MAX_FANOUT,
      tieCells: lib.tie.st3d ? "st3d ST3D_TIEHI/ST3D_TIELO (the library has none; constants tied to the rails)" : `${lib.tie.hi.cell}/${lib.tie.lo.cell}`,
      wire: lib.wire ?? null,
    },
    clock: { targetMHz: cfg.clockMHz, periodNs: r4(1000 / cfg.clockMHz), source: cfg.clockSource, ioDelayFraction: IO_PCT },
    synthesis: {
      script: SYNTH_SCRIPT_VERSION,
      abcScript: abcScript(1e6 / cfg.clockMHz),
      modules: [...mods.values()]
        .sort((a, b) => (a.module < b.module ? -1 : 1))
        .map((m) => ({ module: m.module, cells: m.cellCount, areaUm2: r1(m.areaUm2), stdCellAreaUm2: r1(m.stdCellAreaUm2), macroAreaUm2: r1(m.macroAreaUm2), flops: m.flops, latches: m.latches, fanoutBuffers: m.fanoutBuffers, ties: m.ties, yosysAreaUm2: m.yosysAreaUm2, cached: m.hit })),
      cachedModules: [...mods.values()].filter((m) => m.hit).length,
      wallSeconds: r1(tSynth),
    },
    sramModel: {
      constants: sramModelConstants(lib.sram),
      macros: [...macroList.values()]
        .sort((a, b) => (a.macro < b.macro ? -1 : 1))
        .map((s) => ({ macro: s.macro, ports: s.ports, depth: s.depth, width: s.width, areaUm2: r1(s.areaUm2), clkToQNs: r4(s.clkToQNs), setupNs: r4(s.setupNs), holdNs: r4(s.holdNs), readPj: r4(s.readPj), writePj: r4(s.writePj), leakageNw: r4(s.leakageNw), source: s.source })),
    },
    run: opts.run ? { path: opts.run.path, simulator: opts.run.json.simulator, view: opts.run.json.view, cycles: opts.run.json.cycles, synapticOps: opts.run.json.synapticOps, spikes: opts.run.json.spikes } : null,
    views,
    wallSeconds: { synth: r1(tSynth), timing: opts.timing ? r1((Date.now() - t1) / 1000) : null, total: r1((Date.now() - t0) / 1000) },
  };
  writeReport(opts.out, report);
  return report;
}

function countInstances(m: ModuleSynth, mods: ReadonlyMap<string, ModuleSynth>): number {
  return Object.entries(m.cells)
    .filter(([t]) => mods.has(t))
    .reduce((a, [, n]) => a + n, 0);
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export function writeReport(out: string, rep: PhysicalReport): void {
  writeAtomic(path.join(out, "report.json"), JSON.stringify(rep, null, 2) + "\n");
  writeAtomic(path.join(out, "report.txt"), reportTable(rep));
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + " ".repeat(n - s.length));
const lpad = (s: string, n: number) => (s.length >= n ? s : " ".repeat(n - s.length) + s);
const f = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "-" : v.toFixed(d));

/** The human-readable table (also printed by the CLI). */
export function reportTable(rep: PhysicalReport): string {
  const out: string[] = [];
  out.push(`${rep.design} on ${rep.library.name} (${rep.library.nodeNm} nm, ${rep.library.voltageV} V), clock target ${rep.clock.targetMHz} MHz (${rep.clock.source})`);
  for (const v of Object.values(rep.views)) {
    if (!v) continue;
    out.push("");
    out.push(`view ${v.view} (${v.mode}, top ${v.top}): area ${f(v.areaUm2 / 1e6, 3)} mm², footprint ${f(v.footprintUm2 / 1e6, 3)} mm², ${v.cells} cells, ${v.latches} latches${v.view === "3d" ? `, ${v.bonds} bonds` : ""}`);
    for (const [t, x] of Object.entries(v.tiers)) out.push(`  tier ${pad(t, 6)} ${lpad(f(x!.areaUm2 / 1e6, 3), 9)} mm²  ${lpad(String(x!.cells), 8)} cells  ${x!.instances} instances${x!.energyPj !== null ? `  ${f(x!.energyPj / 1000, 2)} nJ` : ""}`);
    if (v.timing) {
      const t = v.timing;
      out.push(`  timing: worst slack ${f(t.worstSlackNs, 3)} ns, WNS ${f(t.wnsNs, 3)} ns, TNS ${f(t.tnsNs, 3)} ns, fmax ${f(t.fmaxMHz, 1)} MHz, f_eff ${f(t.fEffMHz, 1)} MHz`);
      if (t.critical) out.push(`  critical path: ${t.critical.startpoint} -> ${t.critical.endpoint}, ${f(t.critical.arrivalNs, 3)} ns through ${t.critical.blocks.map((b) => `${b.block} ${f(b.delayNs, 2)}`).join(" > ")}`);
    }
    if (v.energy) {
      const e = v.energy;
      const b = e.breakdownPj;
      out.push(`  energy/inference ${f(e.energyNj, 3)} nJ = SRAM ${f(b.sram / 1000, 3)} + logic ${f(b.logic / 1000, 3)} + wires ${f(b.wires / 1000, 3)} + leakage ${f(b.leakage / 1000, 3)}${b.dram ? ` + DRAM ${f(b.dram / 1000, 3)}` : ""} nJ; ${f(e.averagePowerMw, 2)} mW at ${f(e.fEffMHz, 1)} MHz; ${e.pjPerSynapticOp === null ? "-" : f(e.pjPerSynapticOp, 2)} pJ/synaptic op`);
    }
    out.push(`  ${pad("instance", 24)} ${pad("tier", 6)} ${lpad("area µm²", 12)} ${lpad("cells", 7)} ${lpad("flops", 6)} ${lpad("slack ns", 9)} ${lpad("fmax MHz", 9)} ${lpad("energy pJ", 11)}`);
    for (const x of v.instances) out.push(`  ${pad(x.inst, 24)} ${pad(x.tier, 6)} ${lpad(f(x.areaUm2), 12)} ${lpad(String(x.cells), 7)} ${lpad(String(x.flops), 6)} ${lpad(f(x.worstSlackNs, 3), 9)} ${lpad(f(x.fmaxMHz, 1), 9)} ${lpad(f(x.energyPj), 11)}`);
  }
  out.push("");
  out.push(`synthesis ${f(rep.wallSeconds.synth)} s (${rep.synthesis.cachedModules}/${rep.synthesis.modules.length} modules from the cache)${rep.wallSeconds.timing !== null ? `, timing ${f(rep.wallSeconds.timing)} s` : ""}`);
  return out.join("\n") + "\n";
}

export { BOND_RC };
