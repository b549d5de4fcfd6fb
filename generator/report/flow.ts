/**
 * `report(r, opts)`: the 2D-vs-3D PPA model of one config, for the four views 2d,
 * memory-on-logic, logic-on-logic and auto.  It runs what it needs, every step cached
 * (generator/cache) and with progress (generator/progress):
 *   1. the activity: a random model (or the user's) through `st3d run` on Verilator (2D top;
 *      the 3D views are cycle-equivalent, so one run serves all four), checked against the
 *      golden model;
 *   2. per view: the design with that integration mode (same config otherwise, same hash),
 *      every module mapped onto the cell library (generator/physical/synth.ts; shared by the
 *      views), the floorplan of every die (./floorplan.ts), the wirelength (./wirelength.ts,
 *      Rent exponents measured per module, ./rent.ts), OpenSTA on the view's flat netlist with
 *      the floorplan's inter-instance wires (generator/physical/sta.ts, parasitics.ts), the
 *      energy per inference from the run's activity (generator/physical/power.ts), the memory
 *      latency of every SRAM buffer → consumer path (./latency.ts).
 * The result (`ReportJson`) has stable keys and no wall time (those are in `timings`), so the
 * same inputs give the same JSON.  docs/REPORT.md describes every key.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hardwareResolved, type Resolved } from "../config/resolve.ts";
import { buildDesign, type Design } from "../design.ts";
import type { Tier } from "../top/netlist.ts";
import { cached, cacheKey, type CacheOptions } from "../cache/cache.ts";
import { progress, withProgress } from "../progress/progress.ts";
import { designFor, synthConfig, type PhysicalOptions } from "../physical/design.ts";
import { flatView, macroModels, synthModules, type ModuleSynth, type SynthConfig } from "../physical/synth.ts";
import { clockBits, type YModule } from "../physical/netlist.ts";
import { BOND_RC, interInstanceParasitics, type WireNet } from "../physical/parasitics.ts";
import { IO_PCT, runSta, type StaResult } from "../physical/sta.ts";
import { energyPerInference } from "../physical/power.ts";
import type { Activity } from "../physical/activity.ts";
import type { RunJson } from "../run/run.ts";
import { sramModelConstants } from "../blocks/memory/sramModel.ts";
import { bondBudget } from "../partition/partition.ts";
import { REPO_ROOT, ST3D_VERSION } from "../core/paths.ts";
import { toolVersions } from "../toolchain/tools.ts";
import { floorplanView, distanceSource, type Block, type ViewFloorplan } from "./floorplan.ts";
import { defaultJobs, runPool } from "../physical/pool.ts";
import { measureRent, moduleHypergraph, type RentFit } from "./rent.ts";
import { blockWires, interNets, viewWire, type BlockWire, type ViewWire } from "./wirelength.ts";
import { memoryPaths, pathLatencies, wireDelayModel, type MemPath, type WireDelayModel } from "./latency.ts";
import { weightStore, type WeightStore } from "./weightStore.ts";
import { DRAM_ENERGY_64, DRAM_ENERGY_64_HIGH, ELMORE_50, MACRO_UTILIZATION, minimumDriver, PUBLISHED, RENT_BISECTION_EPSILON, RENT_FIT_MAX_FRACTION, RENT_FIT_MIN_GATES, REPEATER_COEFF, UTILIZATION, type Constant, type PublishedRange } from "./constants.ts";

export const VIEWS = ["2d", "memory-on-logic", "logic-on-logic", "auto"] as const;
export type ViewId = (typeof VIEWS)[number];

export interface ReportOptions extends PhysicalOptions {
  /** the model: a folder of weights and U0 (`st3d run`), or a random model at a spike density */
  weights?: string;
  input?: string;
  /** random model (when no weights): target spike density (default 0.15) and seed (default 1) */
  density?: number;
  seed?: number;
  /** views to build (default all four) */
  views?: readonly ViewId[];
  /** the command line, recorded in the report */
  command?: string;
  /** progress lines of the simulation steps (default true) */
  progress?: boolean;
  cache?: CacheOptions;
}

export interface ViewSummary {
  mode: ViewId;
  footprintUm2: number;
  siliconUm2: number;
  cellAreaUm2: number;
  macroAreaUm2: number;
  wirelengthUm: number;
  bonds: number;
  bondBudget: number;
  fmaxMHz: number;
  feffMHz: number;
  memLatencyPs: number | null;
  energyPerInferenceNj: number;
  powerMw: number;
  pjPerSop: number | null;
}

export interface ViewDetail extends ViewSummary {
  dies: { name: string; tier: Tier; widthUm: number; heightUm: number; usedUm2: number; cellAreaUm2: number; macroAreaUm2: number; blocks: { inst: string; kind: string; x: number; y: number; w: number; h: number; areaUm2: number; cellAreaUm2: number; macroAreaUm2: number }[] }[];
  /** tier of every top-level instance */
  tiers: Record<string, Tier>;
  bondMapBonds: number;
  wirelength: { intraUm: number; interUm: number; dies: { die: string; intraUm: number; interUm: number; totalUm: number }[]; bondedBits: number };
  timing: { periodNs: number; worstSlackNs: number; wnsNs: number; tnsNs: number; critical: { startpoint: string; endpoint: string; arrivalNs: number; blocks: { block: string; delayNs: number }[] } | null; parasiticNets: number; parasiticBits: number };
  energy: { breakdownPj: { sram: number; logic: number; wiresBetween: number; wiresInside: number; leakage: number; dram: number }; dram: { bytes: number; pjHigh: number }; totalPj: number; cycles: number; seconds: number; blocks: { block: string; activity: number; totalPj: number; logicPj: number; wiresInsidePj: number; sramPj: number; leakagePj: number }[] };
  memLatency: { meanPs: number | null; meanCycles: number | null; paths: MemPath[] };
  /** the on-chip weight storage (pool weight banks, or the streamed weights' buffer halves): bits, areas, die(s), share of the footprint (./weightStore.ts) */
  weightStore: WeightStore;
}

/** The run's off-chip weight traffic (run.json offchip; null: the weights are on chip). */
export interface ModelOffchip {
  /** bytes read from off-chip memory in the inference (beats x beatBits / 8) */
  bytesRead: number;
  /** bytes of the weights proper in them, and of every pool layer's weights (all experts) */
  weightBytes: number;
  modelWeightBytes: number;
  /** zero padding of the beats: bytesRead = weightBytes x (1 + padding) */
  padding: number;
  bursts: number;
  beats: number;
  beatBits: number;
  /** cycles the pool's weight read waited for a word not yet arrived */
  waitCycles: number;
  /** the memory model of the run: latency (cycles), bandwidth (bytes per cycle) */
  memLatencyCycles: number;
  memBandwidthBytesPerCycle: number;
}

export interface Ratio {
  /** 3D / 2D − 1 (fraction) per metric */
  footprint: number;
  silicon: number;
  wirelength: number;
  fmax: number;
  feff: number;
  memLatency: number | null;
  energy: number;
  power: number;
  /** mean over paths of (3D path / 2D path − 1) */
  memLatencyPerPath: number | null;
}

export interface ReportJson {
  generator: string;
  design: string;
  config: unknown;
  hash: string;
  /** hash of the resolution every view is built from (the config with integration.mode 2d) */
  rtlHash: string;
  command: string;
  tools: Record<string, string>;
  library: { name: string; nodeNm: number; voltageV: number; liberty: string; lef: string | null };
  clock: { targetMHz: number; periodNs: number; source: string; ioDelayFraction: number };
  model: { source: string; weights: string | null; input: string | null; density: number | null; seed: number | null; simulator: string; cycles: number; synapticOps: number; spikes: number; matchesGolden: boolean; weightsOnChip: boolean; offchip: ModelOffchip | null };
  constants: Constant[];
  published: PublishedRange[];
  blocks: { inst: string; module: string; kind: string; cellAreaUm2: number; macroAreaUm2: number; cells: number; macros: Record<string, number>; rentP: number; rentSource: string; nets: number; donathPitches: number; pitchUm: number; intraWireUm: number }[];
  rent: { module: string; cells: number; nets: number; pins: number; p: number | null; t: number | null; fitLevels: number[]; levels: { meanGates: number; meanTerminals: number }[] }[];
  wireDelay: { psPerMm: number; bondPs: number; driver: string; driverROhm: number; driverCInFf: number };
  views: Partial<Record<ViewId, ViewDetail>>;
  /** 3D / 2D − 1 of every 3D view */
  comparison: Partial<Record<Exclude<ViewId, "2d">, Ratio>>;
}

export interface Timings {
  totalSeconds: number;
  steps: Record<string, number>;
  cache: Record<string, boolean>;
}

export interface ReportResult {
  json: ReportJson;
  timings: Timings;
  /** the per-view designs and floorplans (for the HTML page and the hand-off files) */
  designs: Partial<Record<ViewId, Design>>;
  floorplans: Partial<Record<ViewId, ViewFloorplan>>;
  synth: SynthConfig & { clockSource: string };
}

const rd = (v: number, d = 3) => (Number.isFinite(v) ? Number(v.toFixed(d)) : v);
const rel = (a: number, b: number) => (b !== 0 ? a / b - 1 : 0);

/** The resolved config of one report view: the report's 2d resolution with another integration mode (same hash, same RTL otherwise). */
export function viewResolved(r: Resolved, mode: ViewId): Resolved {
  return { ...r, integration: { ...r.integration, mode } };
}

function fileHash(files: readonly string[]): string {
  const h = crypto.createHash("sha256");
  for (const f of files) {
    if (fs.statSync(f).isDirectory()) {
      for (const e of fs.readdirSync(f).sort()) {
        const p = path.join(f, e);
        if (fs.statSync(p).isFile()) h.update(e).update(fs.readFileSync(p));
      }
    } else h.update(fs.readFileSync(f));
  }
  return h.digest("hex");
}

/** Hash of st3d's own source files that compute a cached step (a code change must miss the cache). */
function codeHash(...rel: string[]): string {
  return fileHash(rel.map((f) => path.join(REPO_ROOT, f)));
}

/** Run the model on Verilator (2D top) with the activity counters; cached by the design files and the model. */
async function activityRun(r: Resolved, opts: ReportOptions, t: Timings): Promise<{ json: RunJson; activity: Activity; model: ReportJson["model"] }> {
  const { randomModel, writeModelDir, writeInput } = await import("../model/tensors.ts");
  const r2 = viewResolved(r, "2d");
  let weights = opts.weights;
  let input = opts.input;
  let tmpModel: string | null = null;
  const density = weights ? null : (opts.density ?? 0.15);
  const seed = weights ? null : (opts.seed ?? 1);
  if (!weights) {
    tmpModel = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-report-model-"));
    const { model, input: U0 } = randomModel(r, seed!, density!);
    weights = path.join(tmpModel, "weights");
    input = path.join(tmpModel, "input.npy");
    writeModelDir(r, model, weights);
    writeInput(r, U0, input);
  }
  try {
    const d = buildDesign(r2);
    const own = ["generator/run/run.ts", "generator/run/host.ts", "generator/run/sim.ts", "generator/run/check.ts", "generator/physical/activity.ts", "generator/package/host_tb.v.hbs"].map((f) => path.join(REPO_ROOT, f)).filter((f) => fs.existsSync(f));
    const key = cacheKey("report-run-2", ST3D_VERSION, ...d.files.filter((f) => f.kind === "rtl" || f.kind === "sim").flatMap((f) => [f.path, f.content]), fileHash(own), fileHash([weights, input!]));
    const t0 = Date.now();
    console.error(`[report: run] ${density !== null ? `a random model (seed ${seed}, spike density ${density})` : weights} through the RTL on Verilator (activity counters on), checked against the golden model ...`);
    const e = await cached<{ json: RunJson; golden: boolean }>(
      "report-run",
      key,
      async (dir) => {
        const { st3dRun } = await import("../run/run.ts");
        const res = await st3dRun(r2, { weights: weights!, input: input!, out: path.join(dir, "run"), sim: "verilator", view: "2d", check: true, progress: opts.progress !== false });
        return { json: res.json, golden: !!res.json.check?.match };
      },
      opts.cache,
    );
    t.steps.run = (Date.now() - t0) / 1000;
    t.cache.run = e.hit;
    const json = e.value.json;
    const activity = json.activity as Activity | null;
    if (!activity) throw new Error("st3d run recorded no activity (the activity counters are missing from this build)");
    if (!e.value.golden) throw new Error("the RTL output of the report's run differs from the golden model: the design is broken, no report");
    return {
      json,
      activity,
      model: {
        source: density !== null ? `random model (generator/model/tensors.ts randomModel), seed ${seed}, spike density ${density}` : `user model ${opts.weights}`,
        weights: opts.weights ?? null,
        input: opts.input ?? null,
        density,
        seed,
        simulator: String(json.simulator),
        cycles: Number(json.cycles),
        synapticOps: Number(json.synapticOps),
        spikes: Number(json.spikes),
        matchesGolden: e.value.golden,
        weightsOnChip: r.hw.weights.onChip,
        offchip: offchipOf(json),
      },
    };
  } finally {
    if (tmpModel) fs.rmSync(tmpModel, { recursive: true, force: true });
  }
}

function offchipOf(json: RunJson): ModelOffchip | null {
  const o = json.offchip;
  if (!o) return null;
  return {
    bytesRead: o.bytesRead,
    weightBytes: o.weightBytes,
    modelWeightBytes: o.modelWeightBytes,
    padding: rd(o.overhead, 6),
    bursts: o.bursts,
    beats: o.beats,
    beatBits: o.beatBits,
    waitCycles: o.waitCycles,
    memLatencyCycles: o.latency,
    memBandwidthBytesPerCycle: o.bandwidth,
  };
}

/** Rent fits of the mapped modules (cached by the mapped netlist). */
export async function rentFits(mods: ReadonlyMap<string, ModuleSynth>, modules: readonly string[], cfg: SynthConfig, opts: ReportOptions, t: Timings): Promise<Map<string, RentFit>> {
  const out = new Map<string, RentFit>();
  const p = progress("report: Rent exponents", { total: modules.length, unit: "modules" });
  let hits = 0;
  const t0 = Date.now();
  try {
    for (const m of [...modules].sort()) {
      const ms = mods.get(m)!;
      const text = fs.readFileSync(ms.json, "utf8");
      const key = cacheKey("report-rent-1", codeHash("generator/report/rent.ts", "generator/report/mincut.ts"), cfg.lib.hash, RENT_BISECTION_EPSILON.value.toString(), RENT_FIT_MIN_GATES.value.toString(), RENT_FIT_MAX_FRACTION.value.toString(), text);
      const e = await cached<RentFit>(
        "report-rent",
        key,
        async () => {
          const y = JSON.parse(text) as YModule;
          const { g, external } = moduleHypergraph(y, { clockBits: clockBits(cfg.lib, y) });
          return measureRent(g, external, { minGates: RENT_FIT_MIN_GATES.value, maxFraction: RENT_FIT_MAX_FRACTION.value, epsilon: RENT_BISECTION_EPSILON.value });
        },
        opts.cache,
      );
      if (e.hit) hits++;
      out.set(m, e.value);
      p.tick(1, `${m}${e.hit ? " (cached)" : ` p = ${e.value.measured ? e.value.p.toFixed(3) : "-"}`}`);
    }
  } catch (err) {
    p.fail();
    throw err;
  }
  p.done(`${modules.length} modules (${hits} from the cache)`);
  t.steps.rent = (Date.now() - t0) / 1000;
  return out;
}

/**
 * The inter-instance parasitics of a view (SPEF + per-net summary), cached by the flat netlist
 * (its cache entry's key names its content), the floorplan, the tiers and the wire R/C.
 */
async function cachedParasitics(top: string, fv: { json: string }, nl: Design["acc"]["netlist"], fp: ViewFloorplan, tierOf: ((i: string) => Tier) | null, cfg: SynthConfig, opts: ReportOptions): Promise<{ spefFile: string; spefSha: string; nets: WireNet[]; bits: number; hit: boolean }> {
  const lib = cfg.lib;
  const flatKey = path.basename(path.dirname(fv.json));
  const place = [...fp.place.values()].map((b) => [b.inst, b.tier, b.x, b.y, b.w, b.h]);
  const key = cacheKey("report-par-1", codeHash("generator/physical/parasitics.ts"), flatKey, lib.hash, JSON.stringify(lib.wire), JSON.stringify(BOND_RC), top, JSON.stringify(place), JSON.stringify(nl.instances.map((i) => [i.name, tierOf ? tierOf(i.name) : "bottom"])));
  const e = await cached<{ spefSha: string; nets: WireNet[]; bits: number }>(
    "report-par",
    key,
    async (dir) => {
      const flat = JSON.parse(fs.readFileSync(fv.json, "utf8")).modules[top];
      const par = interInstanceParasitics(lib, top, flat, nl, distanceSource(fp), tierOf, lib.wire!);
      fs.writeFileSync(path.join(dir, `${top}.spef`), par.spef);
      return { spefSha: crypto.createHash("sha256").update(par.spef).digest("hex"), nets: par.nets, bits: par.bits };
    },
    opts.cache,
  );
  return { spefFile: path.join(e.dir, `${top}.spef`), ...e.value, hit: e.hit };
}

/** OpenSTA of one view, cached by the flat netlist (and its macro libraries), the period and the SPEF. */
async function cachedSta(top: string, fv: { json: string; verilog: string; extraLibs: string[] }, cfg: SynthConfig, periodNs: number, par: { spefFile: string; spefSha: string }, threeD: boolean, power: boolean, opts: ReportOptions): Promise<{ sta: StaResult; hit: boolean }> {
  const { run } = await import("../toolchain/tools.ts");
  const ver = (await run("sta", ["-version"])).output.trim();
  const flatKey = path.basename(path.dirname(fv.json));
  const key = cacheKey("report-sta-3", codeHash("generator/physical/sta.ts"), ver, cfg.lib.hash, top, String(periodNs), String(threeD), String(power), flatKey, par.spefSha);
  const e = await cached<StaResult>("report-sta", key, async (dir) => runSta({ top, lib: cfg.lib, netlist: fv.verilog, extraLibs: fv.extraLibs, periodNs, spef: fs.readFileSync(par.spefFile, "utf8"), threeD, power, dir: path.join(dir, "sta") }), opts.cache);
  return { sta: e.value, hit: e.hit };
}

/**
 * Energy of the wires inside the blocks (which OpenSTA's power, without parasitics, leaves
 * out): per block, N cycles × a_b (its measured toggle rate, the same one the logic term
 * uses) × nets × ½·c·L̄·pitch·V², with L̄·pitch the block's Donath length (./wirelength.ts).
 */
export function intraWireEnergyPj(blocks: readonly BlockWire[], activityOf: ReadonlyMap<string, number>, cycles: number, cFfPerUm: number, voltage: number): { totalPj: number; byBlock: Map<string, number> } {
  const byBlock = new Map<string, number>();
  let total = 0;
  for (const b of blocks) {
    const a = activityOf.get(b.inst) ?? 0;
    const e = cycles * a * 0.5 * b.intraUm * cFfPerUm * 1e-15 * voltage * voltage * 1e12;
    byBlock.set(b.inst, e);
    total += e;
  }
  return { totalPj: total, byBlock };
}

/** The report of one config (no file written: see ./write.ts). */
export async function report(asked: Resolved, opts: ReportOptions = {}): Promise<ReportResult> {
  const T0 = Date.now();
  // Every view is built from one resolution of the hardware: the config with integration.mode =
  // 2d (its hash is the one in every file header and ctrl's ID register).  The report of a config
  // therefore does not depend on the mode it names: the four modes of one hardware give the same
  // views and share every cached step (run, synthesis, wires, OpenSTA).
  const r = hardwareResolved(asked);
  const t: Timings = { totalSeconds: 0, steps: {}, cache: {} };
  const views = opts.views ?? VIEWS;
  if (!views.includes("2d")) throw new Error("the report compares every view with 2d: views must include '2d'");
  const cfg = synthConfig(r, opts);
  const lib = cfg.lib;
  if (!lib.wire) throw new Error(`no wire R/C: pass --lef with the routing layers of ${lib.name} (the per-um resistance and capacitance come from its LAYER RESISTANCE/CAPACITANCE)`);
  const periodNs = 1000 / cfg.clockMHz;
  // the simulation runs while the views are synthesized and timed
  const runP = activityRun(r, opts, t);
  runP.catch(() => {}); // awaited below; a failure is reported there

  const designs: Partial<Record<ViewId, Design>> = {};
  const floorplans: Partial<Record<ViewId, ViewFloorplan>> = {};
  const details: Partial<Record<ViewId, ViewDetail>> = {};
  const driver = minimumDriver(lib);
  const wdm: WireDelayModel = wireDelayModel(driver, lib.wire, BOND_RC, REPEATER_COEFF.value);
  let rents: Map<string, RentFit> | null = null;
  let blockWire: BlockWire[] = [];
  let allMods = new Map<string, ModuleSynth>();
  let paths2d: MemPath[] = [];

  // 1. per view: the design, its modules, the floorplan, the wires, the flat netlist and its parasitics
  type Prep = { d: Design; mods: Map<string, ModuleSynth>; fp: ViewFloorplan; wire: ViewWire; tierOf: (i: string) => Tier; top: string; fv: Awaited<ReturnType<typeof flatView>>; par: Awaited<ReturnType<typeof cachedParasitics>>; blocks: Block[] };
  const prep: Partial<Record<ViewId, Prep>> = {};
  for (const v of views) {
    const rv = viewResolved(r, v);
    const tv = Date.now();
    const d = await designFor(rv, { ...opts, physical: v !== "2d", progressLabel: `report ${v}: synth` });
    designs[v] = d;
    const nl = d.acc.netlist;
    const instModules = [...new Set(nl.instances.map((i) => i.module))];
    const mods = await synthModules(d.files, instModules, d.tops, { ...cfg, progressLabel: `report ${v}: synth` });
    for (const [k, m] of mods) allMods.set(k, m);
    if (!rents) {
      rents = await rentFits(mods, instModules, cfg, opts, t);
      const cellArea = new Map(nl.instances.map((i) => [i.name, mods.get(i.module)!.stdCellAreaUm2]));
      blockWire = blockWires(nl, cellArea, rents, UTILIZATION.value);
    }
    const assign = d.threeD?.assign;
    const tierOf = (inst: string): Tier => (v === "2d" ? "bottom" : assign!.get(inst)!);
    const blocks: Block[] = nl.instances.map((i) => {
      const m = mods.get(i.module)!;
      return { inst: i.name, kind: i.kind, tier: tierOf(i.name), cellAreaUm2: m.stdCellAreaUm2, macroAreaUm2: m.macroAreaUm2 };
    });
    const fp = floorplanView(nl, blocks, { utilization: UTILIZATION.value, threeD: v !== "2d" });
    floorplans[v] = fp;
    const wire: ViewWire = viewWire(fp, blockWire, interNets(nl, fp));
    const top = v === "2d" ? d.acc.top : `${r.name}_3d`;
    const fv = await withProgress(`report ${v}: wires`, async (p) => {
      p.log(`flattening ${top}, inter-instance wires of the floorplan as a SPEF ...`);
      return flatView(top, mods, cfg);
    });
    const par = await cachedParasitics(top, fv, nl, fp, v === "2d" ? null : tierOf, cfg, opts);
    prep[v] = { d, mods, fp, wire, tierOf, top, fv, par, blocks };
    t.steps[`prepare ${v}`] = (Date.now() - tv) / 1000;
  }
  // 2. OpenSTA of every view, as many at once as the machine has cores; logic power per block
  //    once, on the 2D netlist (the blocks' cells are the same in every view)
  const ts = Date.now();
  const stas = await runPool([...views], opts.jobs ?? defaultJobs(), (v) =>
    withProgress(`report ${v}: timing`, async (p) => {
      const x = prep[v]!;
      p.log(`OpenSTA on ${x.top} (${x.fv.cells} cells) with the floorplan's wires ...`);
      const s = await cachedSta(x.top, x.fv, cfg, periodNs, x.par, v !== "2d", v === "2d", opts);
      p.done(`${v}: fmax ${s.sta.fmaxMHz.toFixed(1)} MHz, WNS ${s.sta.wnsNs.toFixed(3)} ns${s.hit ? " (cached)" : ""}`);
      return s;
    }),
  );
  t.steps.timing = (Date.now() - ts) / 1000;
  const run = await runP;
  const power2d = stas[views.indexOf("2d")].sta;
  // 3. per view: energy, memory latency, the figures
  for (const v of views) {
    const { d, mods, fp, wire, tierOf, par, blocks } = prep[v]!;
    const nl = d.acc.netlist;
    const staRes = { ...stas[views.indexOf(v)], par };
    t.cache[`sta ${v}`] = staRes.hit;
    const sta: StaResult = v === "2d" ? staRes.sta : { ...staRes.sta, power0: power2d.power0, power1: power2d.power1 };
    const e0 = energyPerInference({ lib, nl, mods, sta, activity: run.activity, wires: staRes.par.nets, synapticOps: run.model.synapticOps, offchipBytes: run.json.offchip?.bytesRead ?? 0 });
    const intra = intraWireEnergyPj(blockWire, new Map(e0.blocks.map((b) => [b.block, b.activity])), e0.cycles, lib.wire.cFfPerUm, lib.voltage);
    const totalPj = e0.totalPj + intra.totalPj;
    const e = { ...e0, totalPj, energyNj: totalPj / 1000, averagePowerMw: (totalPj * 1e-12) / e0.seconds / 1e-3, pjPerSynapticOp: e0.synapticOps > 0 ? totalPj / e0.synapticOps : null };
    // SRAM buffer -> consumer paths
    const macroOf = new Map<string, { macro: string; clkToQNs: number } | null>();
    for (const i of nl.instances) {
      const mm = [...macroModels(lib, mods.get(i.module)!.cells).values()].sort((a, b) => b.clkToQNs - a.clkToQNs || (a.macro < b.macro ? -1 : 1));
      macroOf.set(i.name, mm.length ? { macro: mm[0].macro, clkToQNs: mm[0].clkToQNs } : null);
    }
    const paths = pathLatencies(memoryPaths(nl, macroOf), fp, wdm, periodNs);
    if (v === "2d") paths2d = paths;
    const meanPs = paths.length ? paths.reduce((a, x) => a + x.totalPs, 0) / paths.length : null;
    const bondMapBonds = d.threeD ? d.threeD.f2f.reduce((a, f) => a + f.width, 0) : 0;
    const cellArea = blocks.reduce((a, b) => a + b.cellAreaUm2, 0);
    const macroArea = blocks.reduce((a, b) => a + b.macroAreaUm2, 0);
    details[v] = {
      mode: v,
      footprintUm2: rd(fp.footprintUm2, 1),
      siliconUm2: rd(fp.footprintUm2 * fp.dies.length, 1),
      cellAreaUm2: rd(cellArea, 1),
      macroAreaUm2: rd(macroArea, 1),
      wirelengthUm: rd(wire.totalUm, 1),
      bonds: bondMapBonds,
      bondBudget: v === "2d" ? 0 : bondBudget(d.r, fp.footprintUm2),
      fmaxMHz: rd(sta.fmaxMHz, 3),
      feffMHz: rd(sta.fEffMHz, 3),
      memLatencyPs: meanPs === null ? null : rd(meanPs, 2),
      energyPerInferenceNj: rd(e.energyNj, 4),
      powerMw: rd(e.averagePowerMw, 4),
      pjPerSop: e.pjPerSynapticOp === null ? null : rd(e.pjPerSynapticOp, 4),
      dies: fp.dies.map((die) => ({
        name: die.name,
        tier: die.tier,
        widthUm: die.widthUm,
        heightUm: die.heightUm,
        usedUm2: die.usedUm2,
        cellAreaUm2: rd(die.blocks.reduce((a, b) => a + b.cellAreaUm2, 0), 1),
        macroAreaUm2: rd(die.blocks.reduce((a, b) => a + b.macroAreaUm2, 0), 1),
        blocks: die.blocks.map((b) => ({ inst: b.inst, kind: b.kind, x: b.x, y: b.y, w: b.w, h: b.h, areaUm2: b.areaUm2, cellAreaUm2: rd(b.cellAreaUm2, 1), macroAreaUm2: rd(b.macroAreaUm2, 1) })),
      })),
      tiers: Object.fromEntries(nl.instances.map((i) => [i.name, tierOf(i.name)])),
      bondMapBonds,
      wirelength: {
        intraUm: rd(wire.intraUm, 1),
        interUm: rd(wire.interUm, 1),
        dies: wire.dies.map((x) => ({ die: x.die, intraUm: rd(x.intraUm, 1), interUm: rd(x.interUm, 1), totalUm: rd(x.totalUm, 1) })),
        bondedBits: wire.nets.filter((n) => n.bond).reduce((a, n) => a + n.width, 0),
      },
      timing: {
        periodNs: rd(sta.periodNs, 4),
        worstSlackNs: rd(sta.worstSlackNs, 4),
        wnsNs: rd(sta.wnsNs, 4),
        tnsNs: rd(sta.tnsNs, 4),
        critical: sta.critical ? { startpoint: sta.critical.startpoint, endpoint: sta.critical.endpoint, arrivalNs: rd(sta.critical.arrivalNs, 4), blocks: sta.critical.blocks.map((b) => ({ block: b.block, delayNs: rd(b.delayNs, 4) })) } : null,
        parasiticNets: staRes.par.nets.length,
        parasiticBits: staRes.par.bits,
      },
      energy: {
        breakdownPj: { sram: rd(e.breakdownPj.sram, 2), logic: rd(e.breakdownPj.logic, 2), wiresBetween: rd(e.breakdownPj.wires, 2), wiresInside: rd(intra.totalPj, 2), leakage: rd(e.breakdownPj.leakage, 2), dram: rd(e.breakdownPj.dram, 2) },
        dram: { bytes: e.dram.bytes, pjHigh: rd(e.dram.pjHigh, 2) },
        totalPj: rd(e.totalPj, 2),
        cycles: e.cycles,
        seconds: e.seconds,
        blocks: e.blocks.map((b) => ({ block: b.block, activity: rd(b.activity, 6), totalPj: rd(b.totalPj + (intra.byBlock.get(b.block) ?? 0), 2), logicPj: rd(b.logicPj + b.clockPinsPj, 2), wiresInsidePj: rd(intra.byBlock.get(b.block) ?? 0, 2), sramPj: rd(b.sramPj, 2), leakagePj: rd(b.leakagePj, 2) })),
      },
      memLatency: {
        meanPs: meanPs === null ? null : rd(meanPs, 2),
        meanCycles: meanPs === null ? null : rd(meanPs / (periodNs * 1000), 4),
        paths: paths.map((x) => ({ ...x, clkToQPs: rd(x.clkToQPs, 2), lengthUm: rd(x.lengthUm, 2), wirePs: rd(x.wirePs, 2), bondPs: rd(x.bondPs, 3), totalPs: rd(x.totalPs, 2), cycles: rd(x.cycles, 4) })),
      },
      weightStore: weightStore(d, fp),
    };
  }

  const base = details["2d"]!;
  const comparison: ReportJson["comparison"] = {};
  for (const v of views) {
    if (v === "2d") continue;
    const x = details[v]!;
    const perPath = x.memLatency.paths.map((p) => {
      const b = paths2d.find((q) => q.memory === p.memory && q.consumer === p.consumer);
      return b ? p.totalPs / b.totalPs - 1 : 0;
    });
    comparison[v] = {
      footprint: rd(rel(x.footprintUm2, base.footprintUm2), 4),
      silicon: rd(rel(x.siliconUm2, base.siliconUm2), 4),
      wirelength: rd(rel(x.wirelengthUm, base.wirelengthUm), 4),
      fmax: rd(rel(x.fmaxMHz, base.fmaxMHz), 4),
      feff: rd(rel(x.feffMHz, base.feffMHz), 4),
      memLatency: x.memLatencyPs !== null && base.memLatencyPs ? rd(rel(x.memLatencyPs, base.memLatencyPs), 4) : null,
      energy: rd(rel(x.energyPerInferenceNj, base.energyPerInferenceNj), 4),
      power: rd(rel(x.powerMw, base.powerMw), 4),
      memLatencyPerPath: perPath.length ? rd(perPath.reduce((a, b) => a + b, 0) / perPath.length, 4) : null,
    };
  }
  const tools = await toolVersions();
  // the sources users can read are in the repository: docs/REPORT.md "Sources"
  const bondSource = BOND_RC.source;
  const sramConsts = sramModelConstants(lib.sram).map((c) => ({ ...c, name: `sram.${c.name}` }));
  const constants: Constant[] = [
    UTILIZATION,
    MACRO_UTILIZATION,
    REPEATER_COEFF,
    ELMORE_50,
    RENT_FIT_MIN_GATES,
    RENT_FIT_MAX_FRACTION,
    RENT_BISECTION_EPSILON,
    DRAM_ENERGY_64,
    DRAM_ENERGY_64_HIGH,
    { name: "wire.rOhmPerUm", value: rd(lib.wire.rOhmPerUm, 6), unit: "ohm/um", source: lib.wire.source },
    { name: "wire.cFfPerUm", value: rd(lib.wire.cFfPerUm, 6), unit: "fF/um", source: lib.wire.source },
    { name: "driver.rOhm", value: rd(driver.rOhm, 2), unit: "ohm", source: driver.source },
    { name: "driver.cInFf", value: rd(driver.cInFf, 4), unit: "fF", source: driver.source },
    { name: "wire.repeatedDelayPsPerMm", value: rd(wdm.psPerUm * 1000, 3), unit: "ps/mm", source: "2.5 x sqrt(driver.rOhm x driver.cInFf x wire.rOhmPerUm x wire.cFfPerUm) (Bakoglu & Meindl 1985)" },
    { name: "bond.rOhm", value: BOND_RC.rOhm, unit: "ohm", source: bondSource },
    { name: "bond.cFf", value: BOND_RC.cFf, unit: "fF", source: bondSource },
    { name: "bond.delayPs", value: rd(wdm.bondPs, 4), unit: "ps", source: "ln 2 x (driver.rOhm x bond.cFf + bond.rOhm x driver.cInFf)" },
    { name: "bond.pitchUm", value: r.integration.bondPitchUm, unit: "um", source: "integration.bondPitchUm of the config (Open3DBench / Pin-3D default 1 um)" },
    { name: "bond.usableFraction", value: r.integration.bondUsableFraction, unit: "-", source: "integration.bondUsableFraction of the config (Pin-3D: cut nets <= die area / pitch^2 x 0.5)" },
    { name: "clock.ioDelayFraction", value: IO_PCT, unit: "of the period", source: "ORFS constraint.sdc convention clk_io_pct 0.2" },
    { name: "clock.targetMHz", value: cfg.clockMHz, unit: "MHz", source: cfg.clockSource },
    { name: "library.voltage", value: lib.voltage, unit: "V", source: `${lib.liberty} nom_voltage` },
    ...sramConsts,
  ];
  const json: ReportJson = {
    generator: `st3d ${r.version}`,
    design: r.name,
    config: asked.user,
    hash: asked.hash,
    rtlHash: r.hash,
    command: opts.command ?? "",
    tools: { st3d: r.version, ...tools, library: `${lib.name} (${path.basename(lib.liberty)})` },
    library: { name: lib.name, nodeNm: lib.nodeNm, voltageV: lib.voltage, liberty: lib.liberty, lef: lib.lef ?? null },
    clock: { targetMHz: cfg.clockMHz, periodNs: rd(periodNs, 4), source: cfg.clockSource, ioDelayFraction: IO_PCT },
    model: run.model,
    constants,
    published: [...PUBLISHED],
    blocks: designs["2d"]!.acc.netlist.instances.map((i) => {
      const m = allMods.get(i.module)!;
      const bw = blockWire.find((b) => b.inst === i.name)!;
      return { inst: i.name, module: i.module, kind: i.kind, cellAreaUm2: rd(m.stdCellAreaUm2, 1), macroAreaUm2: rd(m.macroAreaUm2, 1), cells: m.cellCount, macros: m.macros, rentP: rd(bw.rentP, 4), rentSource: bw.rentSource, nets: bw.nets, donathPitches: rd(bw.donathPitches, 4), pitchUm: rd(bw.pitchUm, 4), intraWireUm: rd(bw.intraUm, 1) };
    }),
    rent: [...rents!.entries()].map(([module, f]) => ({ module, cells: f.cells, nets: f.nets, pins: f.pins, p: f.measured ? rd(f.p, 4) : null, t: f.measured ? rd(f.t, 4) : null, fitLevels: f.fitLevels, levels: f.levels.map((l) => ({ meanGates: rd(l.meanGates, 2), meanTerminals: rd(l.meanTerminals, 2) })) })),
    wireDelay: { psPerMm: rd(wdm.psPerUm * 1000, 3), bondPs: rd(wdm.bondPs, 4), driver: driver.cell, driverROhm: rd(driver.rOhm, 2), driverCInFf: rd(driver.cInFf, 4) },
    views: details,
    comparison,
  };
  t.totalSeconds = (Date.now() - T0) / 1000;
  return { json, timings: t, designs, floorplans, synth: cfg };
}
