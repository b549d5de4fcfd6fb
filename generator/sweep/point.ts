/**
 * One sweep point, start to finish (what `st3d sweep FILE -o DIR --point I` does, locally in a
 * worker process or as a Slurm array task): make the workload, run the selected stages into a
 * private staging folder, publish that folder as points/<key>/, then write points/<key>.json —
 * the point's result, and the one file whose presence means "this point is done".
 *
 * The result's fields outside `timing` are a pure function of the sweep, the point and the
 * tools: no wall time, host, process id or absolute path, so a local run and a Slurm run give
 * the same bytes.  `timing` (host, start, seconds per stage) is kept apart and never compared.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "../config/load.ts";
import { canonicalJson, ST3D_VERSION } from "../config/resolve.ts";
import { randomModel, writeInput, writeModelDir, loadModelDir, loadInput } from "../model/tensors.ts";
import { runInterruptCleanups } from "../output.ts";
import { progress } from "../progress/progress.ts";
import { emptyMetrics, type Metrics, type StageName } from "./metrics.ts";
import type { Point, SweepDef, Workload } from "./file.ts";
import { STAGE_IMPL, type StageOutput } from "./stages.ts";
import { commitPointDir, HOST, POINTS, tempName, writeFileAtomic } from "./outdir.ts";

export type Status = "ok" | "invalid" | "failed";

/** The deterministic part of a point's result: one row of results.jsonl (plus `front`, added at collection). */
export interface PointRow {
  index: number;
  key: string;
  label: string;
  axes: Record<string, unknown>;
  workload: { density: number; seed: number } | { model: string };
  configHash: string | null;
  status: Status;
  /** why the point is invalid or failed (null when ok) */
  error: string | null;
  /** which stage failed (null when ok or invalid before any stage) */
  failedStage: StageName | null;
  stages: StageName[];
  metrics: Metrics;
  /** paths relative to the sweep folder */
  files: { dir: string | null; report: string | null };
}

export interface PointTiming {
  host: string;
  startedAt: string;
  seconds: Partial<Record<StageName | "workload" | "total", number>>;
}

export interface PointResult extends PointRow {
  st3d: string;
  /** what the result was computed for (stages and their options); a mismatch makes the point pending again */
  spec: string;
  timing: PointTiming;
}

/** The signature of what a sweep asks of every point (stages and their options). */
export function pointSpec(s: SweepDef): string {
  return crypto.createHash("sha256").update(canonicalJson({ stages: s.stages, cycles: s.cycles })).digest("hex").slice(0, 12);
}

export function resultFile(dir: string, key: string): string {
  return path.join(dir, POINTS, `${key}.json`);
}

export function readResult(dir: string, key: string): PointResult | null {
  try {
    const r = JSON.parse(fs.readFileSync(resultFile(dir, key), "utf8")) as PointResult;
    return r && r.key === key && typeof r.status === "string" ? r : null;
  } catch {
    return null;
  }
}

/** Is the point's stored result final for this sweep (ok/invalid, or failed when not retrying)? */
export function isFinished(r: PointResult | null, spec: string, retryFailed: boolean): boolean {
  if (!r || r.spec !== spec) return false;
  return r.status === "ok" || r.status === "invalid" || (r.status === "failed" && !retryFailed);
}

/** The fields of a point's result that come from the sweep and the point alone. */
export function pointBase(s: SweepDef, p: Point) {
  return {
    st3d: ST3D_VERSION,
    spec: pointSpec(s),
    index: p.index,
    key: p.key,
    label: p.label,
    axes: p.axes,
    workload: workloadOf(p.workload),
    configHash: p.configHash ?? null,
    stages: s.stages,
  };
}

/** Record a point as failed without running it (its worker died before writing a result). */
export function writeFailedResult(s: SweepDef, p: Point, dir: string, error: string): void {
  const r: PointResult = { ...pointBase(s, p), status: "failed", error, failedStage: null, metrics: emptyMetrics(), files: { dir: null, report: null }, timing: { host: HOST, startedAt: new Date().toISOString(), seconds: {} } };
  writeFileAtomic(resultFile(dir, p.key), JSON.stringify(r, null, 2) + "\n");
}

export function workloadOf(w: Workload): PointRow["workload"] {
  return w.kind === "random" ? { density: w.density, seed: w.seed } : { model: w.hash };
}

/** Short, path-free text of an error for the result (first lines; absolute paths under `dir` made relative). */
function errorText(e: unknown, dir: string): string {
  const msg = (e as Error)?.message ?? String(e);
  const lines = msg.split("\n");
  const short = lines.length > 12 ? [...lines.slice(0, 12), `... (${lines.length - 12} more lines in the point's log.txt)`] : lines;
  return short.join("\n").split(path.resolve(dir) + path.sep).join("");
}

const hookList = (v: string) => (process.env[v] ?? "").split(",").filter(Boolean).map(Number);

/** Process-wide cleanup of the temporaries of the points this process is running (signals). */
const liveTemps = new Set<string>();
let hooked = false;
function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(sig, () => {
      for (const t of liveTemps) fs.rmSync(t, { recursive: true, force: true });
      liveTemps.clear();
      // st3d run's private simulation folder and open output stages (generator/output.ts)
      runInterruptCleanups();
      // the process group (when this process leads one: a local sweep worker) takes the
      // simulator / Yosys children with it
      if (process.env.ST3D_SWEEP_GROUP === "self")
        try {
          process.kill(-process.pid, "SIGKILL");
        } catch {
          /* already gone */
        }
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGTERM" ? 15 : 1));
    });
}

export interface RunPointOptions {
  log?: (msg: string) => void;
}

/** Run one point and write its result (and folder) into the sweep folder `dir`. */
export async function runPoint(s: SweepDef, p: Point, dir: string, opts: RunPointOptions = {}): Promise<PointResult> {
  const t0 = Date.now();
  const logLines: string[] = [];
  const say = opts.log ?? ((m: string) => process.stderr.write(`[point ${p.index}] ${m}\n`));
  const log = (m: string) => {
    logLines.push(m);
    say(m);
  };
  const timing: PointTiming = { host: HOST, startedAt: new Date(t0).toISOString(), seconds: {} };
  const base = pointBase(s, p);
  const metrics = emptyMetrics();
  let status: Status = "ok";
  let error: string | null = null;
  let failedStage: StageName | null = null;
  let report: string | null = null;
  let pointDir: string | null = null;

  if (p.invalid || !p.resolved || !p.config) {
    status = "invalid";
    error = p.invalid ?? "invalid configuration";
    log(`invalid: ${error}`);
  } else {
    hookSignals();
    const r = p.resolved;
    const target = path.join(dir, POINTS, p.key);
    const stage = tempName(target);
    const scratch = tempName(`${target}-model`);
    liveTemps.add(stage);
    liveTemps.add(scratch);
    fs.mkdirSync(stage, { recursive: true });
    const pg = progress(`point ${p.index}`, { total: s.stages.length, unit: "stages" });
    try {
      log(`${p.label} (config hash ${r.hash})`);
      // the workload
      let t = Date.now();
      let weights: string;
      let input: string;
      if (p.workload.kind === "random") {
        const { model, input: U0 } = randomModel(r, p.workload.seed, p.workload.density);
        weights = path.join(scratch, "weights");
        input = path.join(scratch, "input.npy");
        writeModelDir(r, model, weights);
        writeInput(r, U0, input);
        log(`random model: seed ${p.workload.seed}, density ${p.workload.density}`);
      } else {
        weights = path.join(p.workload.dir, "weights");
        input = path.join(p.workload.dir, "input.npy");
      }
      const model = loadModelDir(r, weights);
      const U0 = loadInput(r, input);
      timing.seconds.workload = (Date.now() - t) / 1000;
      for (const name of s.stages) {
        t = Date.now();
        pg.log(`${name} ...`);
        // test hooks (docs/SWEEP.md): ST3D_SWEEP_FAIL makes the listed points fail in their first
        // stage; ST3D_SWEEP_BLOCK makes them wait on a synchronous child process first (like a
        // long Yosys run), so that a test can interrupt a point in the middle of one
        if (hookList("ST3D_SWEEP_BLOCK").includes(p.index)) {
          const b = spawnSync("sleep", ["120"]);
          if (b.signal || b.status) throw Object.assign(new Error(`ST3D_SWEEP_BLOCK: the blocking child ended (${b.signal ?? b.status})`), { stage: name });
        }
        if (hookList("ST3D_SWEEP_FAIL").includes(p.index)) throw Object.assign(new Error(`ST3D_SWEEP_FAIL asks point ${p.index} to fail`), { stage: name });
        let out: StageOutput;
        try {
          out = await STAGE_IMPL[name].run({ r, point: p, sweep: s, dir: stage, weights, input, model, U0, log });
        } catch (e) {
          throw Object.assign(e as Error, { stage: name });
        }
        for (const [k, v] of Object.entries(out.metrics)) (metrics as Record<string, number | null>)[k] = v ?? null;
        if (out.report) report = path.posix.join(POINTS, p.key, out.report);
        timing.seconds[name] = (Date.now() - t) / 1000;
        pg.tick(1, name);
      }
      pg.done(`${s.stages.join(", ")} done`);
    } catch (e) {
      pg.fail();
      // a stage that failed because this process is being stopped (Ctrl-C reaches the whole
      // process group: the simulator or Yosys dies first) must not leave a "failed" result:
      // give the pending signal handler its turn before anything is written
      await new Promise((res) => setTimeout(res, 250));
      status = e instanceof ConfigError ? "invalid" : "failed";
      failedStage = status === "failed" ? ((e as { stage?: StageName }).stage ?? null) : null;
      error = errorText(e, dir);
      log(`${status}${failedStage ? ` in the ${failedStage} stage` : ""}: ${(e as Error).message}`);
      if (process.env.ST3D_DEBUG) log((e as Error).stack ?? "");
    }
    fs.rmSync(scratch, { recursive: true, force: true });
    liveTemps.delete(scratch);
    try {
      fs.writeFileSync(path.join(stage, "config.json"), JSON.stringify(p.config, null, 2) + "\n");
      fs.writeFileSync(path.join(stage, "log.txt"), logLines.join("\n") + "\n");
      commitPointDir(stage, target, { design: r.name, configHash: r.hash });
      pointDir = path.posix.join(POINTS, p.key);
    } finally {
      fs.rmSync(stage, { recursive: true, force: true });
      liveTemps.delete(stage);
    }
  }
  timing.seconds.total = (Date.now() - t0) / 1000;
  const result: PointResult = { ...base, status, error, failedStage, metrics: status === "ok" ? metrics : emptyMetrics(), files: { dir: pointDir, report: status === "ok" ? report : null }, timing };
  writeFileAtomic(resultFile(dir, p.key), JSON.stringify(result, null, 2) + "\n");
  return result;
}
