/**
 * The stages a sweep point runs, each a function behind one small interface:
 *
 *   cycles    generate the point's RTL, `st3d run` it on Verilator (or Icarus) through the host
 *             port, and (check: true) compare the output with the golden model value by value
 *             -> cycles, utilization, synapticOps, lanes   (run/run.json, run/output.npy)
 *   physical  what `st3d generate --physical` computes: every module mapped onto the cell
 *             library by Yosys (generator/physical), its area the liberty's cell areas plus the
 *             SRAM model's macros, the tiers of the point's integration mode (docs/3D.md)
 *             -> footprintUm2, siliconUm2, bonds, bondBudget   (physical.json)
 *   report    the 2D-vs-3D report (`st3d report`, generator/report) of the point's view and 2d:
 *             report.json and report.html in the point's report/ folder; the per-view keys of
 *             report.json (footprintUm2, fmaxMHz, energyPerInferenceNj, ...) of the point's own
 *             view, and the cycles of the report's own checked Verilator run, become its
 *             metrics.  setReportProvider() plugs in a stand-in (tests).
 *
 * A stage throws a ConfigError when the point's configuration cannot be built (the point is
 * "invalid"), any other error when it failed (the point is "failed").
 */
import fs from "node:fs";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import type { Model } from "../model/golden.ts";
import { st3dRun } from "../run/run.ts";
import { acceleratorAreas, synthConfig } from "../physical/design.ts";
import { buildThreeD, ASSUMPTIONS } from "../partition/views.ts";
import { partitionStats, bondBudget } from "../partition/partition.ts";
import { METRIC_NAMES, type Metrics, type StageName } from "./metrics.ts";
import type { Point, SweepDef, Workload } from "./file.ts";
import { report, type ViewId } from "../report/flow.ts";
import { reportFiles } from "../report/write.ts";
import { writeOutputDir } from "../output.ts";

export interface StageContext {
  r: Resolved;
  point: Point;
  sweep: SweepDef;
  /** the point's folder being staged: a stage writes its files here (never elsewhere) */
  dir: string;
  /** the workload as files (weights folder, input.npy) and in memory */
  weights: string;
  input: string;
  model: Model;
  U0: number[][][];
  log: (msg: string) => void;
}

export interface StageOutput {
  metrics: Partial<Metrics>;
  /** an HTML report of the point, relative to the point's folder */
  report?: string;
}

export interface Stage {
  name: StageName;
  run(ctx: StageContext): Promise<StageOutput>;
}

export class StageError extends Error {
  override name = "StageError";
}

// ------------------------------------------------------------------ cycles

export const cyclesStage: Stage = {
  name: "cycles",
  async run(ctx) {
    const { r, sweep } = ctx;
    const view = sweep.cycles.view === "3d" && r.integration.mode !== "2d" ? "3d" : "2d";
    // check: st3d run --check (U after every half of every block, the output and the counters,
    // value by value against the golden model); a mismatch throws with the first difference
    const res = await st3dRun(r, { weights: ctx.weights, input: ctx.input, out: path.join(ctx.dir, "run"), sim: sweep.cycles.sim, view, check: sweep.cycles.check, log: ctx.log });
    if (sweep.cycles.check) {
      if (!res.json.check?.match) throw new StageError(`internal error: st3d run --check returned without a match`);
      ctx.log(`the ${sweep.cycles.sim} ${view} run equals the golden model (U after every half, output, counters)`);
    }
    const j = res.json;
    return { metrics: { cycles: j.cycles as number, utilization: j.utilization as number, synapticOps: j.synapticOps as number, lanes: j.lanes as number } };
  },
};

// ------------------------------------------------------------------ physical (areas, footprint and bonds)

const round = (v: number, d = 1) => Number(v.toFixed(d));

export const physicalStage: Stage = {
  name: "physical",
  async run(ctx) {
    const { r } = ctx;
    // every instance's module mapped onto the cell library (generator/physical: Yosys + ABC,
    // cached per module in st3d's cache, shared by the points and modes that use it);
    // ST3D_JOBS Yosys processes at once (the pool and the Slurm script set it per worker)
    ctx.log("mapping every module onto the cell library with Yosys for its area (cached) ...");
    const cfg = synthConfig(r, { progressLabel: `point ${ctx.point.index}: synth` });
    const { acc, files, areas } = await acceleratorAreas(r, cfg);
    let out: Record<string, unknown>;
    let metrics: Partial<Metrics>;
    if (r.integration.mode === "2d") {
      metrics = { footprintUm2: round(areas.totalUm2), siliconUm2: round(areas.totalUm2), bonds: 0, bondBudget: null };
      out = { mode: "2d", footprintUm2: round(areas.totalUm2), siliconUm2: round(areas.totalUm2), bonds: 0 };
    } else {
      const t = buildThreeD(r, files, acc.netlist, { physical: false, areas });
      const stats = partitionStats(r, acc.netlist, t.assign, areas.um2);
      const bonds = t.f2f.reduce((a, f) => a + f.width, 0);
      if (bonds !== stats.cut) throw new StageError(`internal error: ${bonds} F2F bits but a cut of ${stats.cut}`);
      const silicon = stats.areaUm2.bottom + stats.areaUm2.top;
      metrics = { footprintUm2: round(stats.footprintUm2), siliconUm2: round(silicon), bonds, bondBudget: bondBudget(r, stats.footprintUm2) };
      out = {
        mode: r.integration.mode,
        footprintUm2: round(stats.footprintUm2),
        siliconUm2: round(silicon),
        tierAreaUm2: { bottom: round(stats.areaUm2.bottom), top: round(stats.areaUm2.top) },
        balance: round(stats.balance, 4),
        balanceOk: stats.balanceOk,
        bonds,
        bondBudget: stats.bondBudget,
        bondMargin: stats.bondMargin,
      };
    }
    const body = {
      design: r.name,
      configHash: r.hash,
      ...out,
      library: areas.library,
      clock: { targetMHz: cfg.clockMHz, source: cfg.clockSource },
      source: `every instance's module mapped by Yosys onto ${areas.source} (generator/physical, generator/partition/areas.ts; docs/PHYSICAL.md)`,
      assumptions: ASSUMPTIONS,
    };
    fs.writeFileSync(path.join(ctx.dir, "physical.json"), JSON.stringify(body, null, 2) + "\n");
    return { metrics };
  },
};

// ------------------------------------------------------------------ report (st3d report, generator/report)

export interface ReportProvider {
  /**
   * Write the 2D-vs-3D report of `r` for the given workload into `out` (report.json and, if
   * there is one, report.html) and return the parsed report.json.
   */
  run(
    r: Resolved,
    opts: { weights: string; input: string; workload: Workload; out: string; command: string; log: (msg: string) => void },
  ): Promise<unknown>;
}

/** The views a point's report computes: its own integration mode, and 2d, which every report compares with. */
export function reportViews(mode: string): ViewId[] {
  return mode === "2d" ? ["2d"] : ["2d", mode as ViewId];
}

/**
 * st3d's own report (generator/report/flow.ts) for one point: the views of the point's mode
 * and 2d, the point's workload (a random model by density and seed, so that
 * `st3d report points/<key>/config.json --density d --seed s --views 2d,<mode>` gives the
 * same report.json; or the model folder), report.json + report.html + timings.json written
 * into `out` through the output rule (generator/output.ts).  The per-view design and ORFS
 * folders that `st3d report` also writes are left out of the sweep folder (hundreds of points).
 */
export const st3dReportProvider: ReportProvider = {
  async run(r, o) {
    const w = o.workload;
    const res = await report(r, {
      ...(w.kind === "random" ? { density: w.density, seed: w.seed } : { weights: o.weights, input: o.input }),
      views: reportViews(r.integration.mode),
      command: o.command,
      progress: false,
    });
    const keep = new Set(["report.json", "report.html", "timings.json"]);
    writeOutputDir(
      o.out,
      reportFiles(res).filter((f) => keep.has(f.path)),
      { generator: res.json.generator, command: "report", design: res.json.design, configHash: res.json.hash },
    );
    return res.json;
  },
};

let provider: ReportProvider = st3dReportProvider;

/** Plug in another report (tests: a stand-in); null puts st3d's own back. */
export function setReportProvider(p: ReportProvider | null): void {
  provider = p ?? st3dReportProvider;
}

/**
 * The metrics of one point from its report.json: the view of the point's integration mode
 * (`views["2d"]` for 2d, else `views[<mode>]` or `views["3d"]`); views may be an object keyed
 * by view name or a list of objects with a `view` field.  Every metric name found there with
 * a numeric value (or null) is taken.  The report's own simulation (`model`: cycles,
 * synapticOps of its Verilator run, checked against the golden model) gives cycles,
 * synapticOps and, with the point's lanes, utilization = synapticOps / (lanes × cycles) —
 * the definition of run.json.
 */
export function reportMetrics(report: unknown, mode: string, lanes?: number): Partial<Metrics> {
  const rep = report as { views?: unknown; model?: { cycles?: unknown; synapticOps?: unknown } };
  let views: Record<string, Record<string, unknown>> = {};
  if (Array.isArray(rep?.views)) for (const v of rep.views as Record<string, unknown>[]) views[String(v.view)] = v;
  else if (rep?.views && typeof rep.views === "object") views = rep.views as Record<string, Record<string, unknown>>;
  const view = mode === "2d" ? views["2d"] : (views[mode] ?? views["3d"]);
  if (!view) throw new StageError(`report.json has no view for integration mode '${mode}' (views: ${Object.keys(views).join(", ") || "none"})`);
  const out: Partial<Metrics> = {};
  for (const m of METRIC_NAMES) {
    const v = view[m];
    if (typeof v === "number" && Number.isFinite(v)) out[m] = v;
    else if (v === null) out[m] = null;
  }
  // the 2d view has no bonds: no budget either (as in the physical stage)
  if (mode === "2d" && "bondBudget" in out) out.bondBudget = null;
  const cyc = rep?.model?.cycles;
  const ops = rep?.model?.synapticOps;
  if (typeof cyc === "number" && typeof ops === "number" && cyc > 0) {
    out.cycles = cyc;
    out.synapticOps = ops;
    if (lanes !== undefined) {
      out.lanes = lanes;
      out.utilization = ops / (lanes * cyc);
    }
  }
  return out;
}

export const reportStage: Stage = {
  name: "report",
  async run(ctx) {
    const out = path.join(ctx.dir, "report");
    fs.mkdirSync(out, { recursive: true });
    const w = ctx.point.workload;
    const command = `st3d report points/${ctx.point.key}/config.json ${w.kind === "random" ? `--density ${w.density} --seed ${w.seed}` : `-w <model>/weights -i <model>/input.npy`} --views ${reportViews(ctx.r.integration.mode).join(",")}`;
    ctx.log(`the 2D-vs-3D report, views ${reportViews(ctx.r.integration.mode).join(", ")} (st3d report; every step cached) ...`);
    const json = await provider.run(ctx.r, { weights: ctx.weights, input: ctx.input, workload: w, out, command, log: ctx.log });
    if (!fs.existsSync(path.join(out, "report.json"))) fs.writeFileSync(path.join(out, "report.json"), JSON.stringify(json, null, 2) + "\n");
    return {
      metrics: reportMetrics(json, ctx.r.integration.mode, ctx.r.hw.poolLanes + ctx.r.hw.routerLanes),
      report: fs.existsSync(path.join(out, "report.html")) ? "report/report.html" : undefined,
    };
  },
};

export const STAGE_IMPL: Record<StageName, Stage> = { cycles: cyclesStage, physical: physicalStage, report: reportStage };
