/**
 * Collecting a sweep: every point's result file -> results.jsonl, results.csv, pareto.json,
 * timing.jsonl and sweep.html in the sweep folder (each written atomically), then the folder's
 * manifest.  Collecting reads only result files, so it gives the same bytes whichever process,
 * host or scheduler ran the points; wall times and hosts go to timing.jsonl alone.
 *
 * Fronts are computed per workload (random-model density and seed, or the model folder): a
 * denser input costs more cycles on every design, so mixing workloads would only rank inputs.
 */
import path from "node:path";
import { METRIC_NAMES, METRICS, type Metrics } from "./metrics.ts";
import { paretoFront } from "./pareto.ts";
import { wlId, type Point, type SweepDef } from "./file.ts";
import { isFinished, pointSpec, readResult, workloadOf, type PointResult, type PointRow, type Status } from "./point.ts";
import { writeFileAtomic, writeSweepManifest } from "./outdir.ts";
import { sweepHtml } from "./html.ts";
import { emptyMetrics } from "./metrics.ts";

export type RowStatus = Status | "pending";

export interface Row extends Omit<PointRow, "status"> {
  status: RowStatus;
  front: boolean;
}

export interface FrontGroup {
  workload: string;
  /** point indices on the front, in index order */
  front: number[];
  /** points with every objective (candidates) */
  candidates: number;
}

export interface Collected {
  rows: Row[];
  timing: ({ index: number; key: string } & PointResult["timing"])[];
  counts: Record<RowStatus, number>;
  fronts: FrontGroup[];
}

/** The rows of the sweep as its result files stand now (points without a result are "pending"). */
export function collectRows(s: SweepDef, points: Point[], dir: string): Collected {
  const spec = pointSpec(s);
  const rows: Row[] = [];
  const timing: Collected["timing"] = [];
  for (const p of points) {
    const r = readResult(dir, p.key);
    if (r && isFinished(r, spec, false)) {
      // index and label come from this sweep (the same result may serve several sweeps in one folder)
      rows.push({
        index: p.index,
        key: r.key,
        label: p.label,
        axes: p.axes,
        workload: r.workload,
        configHash: r.configHash,
        status: r.status,
        error: r.error,
        failedStage: r.failedStage,
        stages: r.stages,
        metrics: { ...emptyMetrics(), ...r.metrics },
        front: false,
        files: r.files,
      });
      timing.push({ index: p.index, key: r.key, ...r.timing });
    } else
      rows.push({
        index: p.index,
        key: p.key,
        label: p.label,
        axes: p.axes,
        workload: workloadOf(p.workload),
        configHash: p.configHash ?? null,
        status: "pending",
        error: null,
        failedStage: null,
        stages: s.stages,
        metrics: emptyMetrics(),
        front: false,
        files: { dir: null, report: null },
      });
  }
  const fronts: FrontGroup[] = [];
  const groups = new Map<string, number[]>();
  for (const p of points) {
    const g = wlId(p.workload);
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(p.index);
  }
  const goals = s.objectives.map((o) => o.goal);
  for (const [g, idx] of groups) {
    const vectors = idx.map((i) => {
      const row = rows[i];
      if (row.status !== "ok") return null;
      const v = s.objectives.map((o) => row.metrics[o.metric]);
      return v.every((x) => typeof x === "number" && Number.isFinite(x)) ? (v as number[]) : null;
    });
    const f = paretoFront(vectors, goals).map((k) => idx[k]);
    for (const i of f) rows[i].front = true;
    fronts.push({ workload: g, front: f, candidates: vectors.filter(Boolean).length });
  }
  const counts: Record<RowStatus, number> = { ok: 0, invalid: 0, failed: 0, pending: 0 };
  for (const r of rows) counts[r.status]++;
  return { rows, timing, counts, fronts };
}

function rowJson(r: Row): string {
  // fixed key order
  return JSON.stringify({
    index: r.index,
    key: r.key,
    label: r.label,
    axes: r.axes,
    workload: r.workload,
    configHash: r.configHash,
    status: r.status,
    error: r.error,
    failedStage: r.failedStage,
    stages: r.stages,
    metrics: Object.fromEntries(METRIC_NAMES.map((m) => [m, r.metrics[m] ?? null])),
    front: r.front,
    files: r.files,
  });
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function resultsCsv(s: SweepDef, rows: Row[]): string {
  const model = s.workloads[0]?.kind === "model";
  const head = ["index", "key", "status", ...s.axes.map((a) => a.path), ...(model ? ["model"] : ["density", "seed"]), ...METRIC_NAMES, "front", "report", "error"];
  const lines = [head.map(csvCell).join(",")];
  for (const r of rows) {
    const w = r.workload as { density?: number; seed?: number; model?: string };
    lines.push(
      [r.index, r.key, r.status, ...s.axes.map((a) => r.axes[a.path]), ...(model ? [w.model] : [w.density, w.seed]), ...METRIC_NAMES.map((m: keyof Metrics) => r.metrics[m]), r.front, r.files.report, r.error]
        .map(csvCell)
        .join(","),
    );
  }
  return lines.join("\r\n") + "\r\n";
}

export function paretoJson(s: SweepDef, c: Collected): string {
  return (
    JSON.stringify(
      {
        sweep: s.name,
        digest: s.digest,
        objectives: s.objectives,
        groupedBy: "workload",
        groups: c.fronts.map((g) => ({
          workload: g.workload,
          candidates: g.candidates,
          front: g.front.map((i) => {
            const r = c.rows[i];
            return { index: r.index, key: r.key, label: r.label, axes: r.axes, objectives: Object.fromEntries(s.objectives.map((o) => [o.metric, r.metrics[o.metric]])), report: r.files.report };
          }),
        })),
      },
      null,
      2,
    ) + "\n"
  );
}

export interface CollectOptions {
  /** the command line shown in sweep.html */
  command?: string;
}

/** Collect the sweep folder's results into its result files; returns what was collected. */
export function writeCollected(s: SweepDef, points: Point[], dir: string, opts: CollectOptions = {}): Collected {
  const c = collectRows(s, points, dir);
  writeFileAtomic(path.join(dir, "results.jsonl"), c.rows.map(rowJson).join("\n") + (c.rows.length ? "\n" : ""));
  writeFileAtomic(path.join(dir, "results.csv"), resultsCsv(s, c.rows));
  writeFileAtomic(path.join(dir, "pareto.json"), paretoJson(s, c));
  writeFileAtomic(path.join(dir, "timing.jsonl"), c.timing.map((t) => JSON.stringify(t)).join("\n") + (c.timing.length ? "\n" : ""));
  writeFileAtomic(path.join(dir, "sweep.html"), sweepHtml(s, c, opts.command));
  writeSweepManifest(dir, { design: s.name, digest: s.digest });
  return c;
}

/** "cycles 931, utilization 5.5%" for the metrics that have values. */
export function metricsSummary(m: Metrics, names = METRIC_NAMES): string {
  return names
    .filter((k) => m[k] !== null && m[k] !== undefined)
    .map((k) => (k === "utilization" ? `utilization ${(100 * (m[k] as number)).toFixed(1)}%` : `${k} ${m[k]}${METRICS[k].unit && !["cycles", "lanes", "bonds"].includes(k) ? " " + METRICS[k].unit : ""}`))
    .join(", ");
}
