/**
 * `st3d sweep FILE -o DIR`: design-space exploration (docs/SWEEP.md).
 *
 *   st3d sweep FILE -o DIR [-j N]            local worker pool (default: the cores)
 *   st3d sweep FILE -o DIR --slurm [...]     one Slurm job array, followed to the end
 *   st3d sweep FILE -o DIR --point I[,J-K]   run those points (what the workers and tasks do)
 *   st3d sweep FILE -o DIR --collect         only rebuild results.* / sweep.html from the results
 *
 * Every mode is resumable: a point whose result is final (ok or invalid; failed too unless
 * --retry-failed) is not run again.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ST3D_VERSION } from "../config/resolve.ts";
import { progress } from "../progress/progress.ts";
import { expandPoints, loadSweep, parsePointList, SweepError, UsageError, type Point, type SweepDef } from "./file.ts";
import { objectiveLabel } from "./metrics.ts";
import { checkSweepDir, removeStaleTemps, SWEEP_JSON, writeFileAtomic, writeSweepManifest, POINTS } from "./outdir.ts";
import { isFinished, pointSpec, readResult, resultFile, runPoint, writeFailedResult, type PointResult } from "./point.ts";
import { runPool } from "./pool.ts";
import { metricsSummary, writeCollected, type Collected } from "./results.ts";
import { logPath, nextScript, sbatchScript, slurmAvailable, submitAndFollow, type SlurmOptions } from "./slurm.ts";

export interface SweepOptions extends SlurmOptions {
  out: string;
  jobs?: number;
  point?: string;
  retryFailed?: boolean;
  force?: boolean;
  collect?: boolean;
  slurm?: boolean;
  dryRun?: boolean;
  /** --no-wait: submit and return */
  wait?: boolean;
}

export interface SweepOutcome {
  code: number;
  collected?: Collected;
}

function sweepJson(s: SweepDef, points: Point[]): string {
  return (
    JSON.stringify(
      {
        st3d: ST3D_VERSION,
        name: s.name,
        digest: s.digest,
        spec: pointSpec(s),
        base: s.base,
        baseConfig: s.baseConfig,
        set: s.set,
        axes: s.axes,
        workloads: s.workloads.map((w) => (w.kind === "random" ? w : { kind: "model", dir: w.dir, hash: w.hash })),
        stages: s.stages,
        cycles: s.cycles,
        objectives: s.objectives,
        points: points.map((p) => ({ index: p.index, key: p.key, label: p.label, ...(p.invalid ? { invalid: p.invalid } : {}) })),
      },
      null,
      2,
    ) + "\n"
  );
}

/** Prepare the sweep folder (checked against the output rule; sweep.json written). */
function initDir(s: SweepDef, points: Point[], dir: string, force: boolean, say: (m: string) => void): void {
  const st = checkSweepDir(dir, { force });
  const stale = removeStaleTemps(dir);
  if (stale.length) say(`removed ${stale.length} temporary file(s) of an interrupted run`);
  if (st.state === "own" && st.sweep?.digest && st.sweep.digest !== s.digest) say(`the sweep changed since ${dir} was written: points whose configuration and workload are unchanged keep their results`);
  fs.mkdirSync(path.join(dir, POINTS), { recursive: true });
  writeFileAtomic(path.join(dir, SWEEP_JSON), sweepJson(s, points));
  if (st.state !== "own") writeSweepManifest(dir, { design: s.name, digest: s.digest });
}

/** `--point`: run the listed points one after the other (a local worker or a Slurm task). */
async function runPoints(s: SweepDef, points: Point[], dir: string, list: string): Promise<number> {
  const idx = parsePointList(list, points.length);
  // the folder must be this sweep's (a task must not run a sweep file edited after submission)
  const sj = path.join(dir, SWEEP_JSON);
  const rel = (f: string) => {
    const r = path.relative(process.cwd(), f);
    return r && !r.startsWith("..") ? r : f;
  };
  if (fs.existsSync(sj)) {
    let digest: string | undefined;
    try {
      digest = JSON.parse(fs.readFileSync(sj, "utf8")).digest;
    } catch {
      /* checked below */
    }
    if (digest !== s.digest)
      throw new SweepError(`${dir} holds another sweep (digest ${digest ?? "unreadable"}, this file: ${s.digest}): the sweep file changed after the run started; run 'st3d sweep ${s.file} -o ${dir}' again to start the new points`);
  } else initDir(s, points, dir, false, (m) => process.stderr.write(`[sweep] ${m}\n`));
  const spec = pointSpec(s);
  let failed = 0;
  for (const i of idx) {
    const p = points[i];
    const prev = readResult(dir, p.key);
    if (isFinished(prev, spec, true)) {
      console.log(`point ${i}: already done (${prev!.status}) -> ${rel(resultFile(dir, p.key))}`);
      continue;
    }
    const r = await runPoint(s, p, dir);
    if (r.status === "failed") failed++;
    console.log(`point ${i} ${r.status}${r.status === "ok" ? `: ${metricsSummary(r.metrics)}` : `: ${headline(r.error)}`} -> ${rel(resultFile(dir, p.key))}`);
  }
  return failed ? 1 : 0;
}

/** The first line of an error, and the next one when the first only announces it ("...:"). */
export function headline(e: string | null | undefined): string {
  const lines = (e ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) return "";
  const pick = lines[0].endsWith(":") && lines.length > 1 ? `${lines[0]} ${lines.find((l, i) => i > 0 && /FAIL|rror/.test(l)) ?? lines[1]}` : lines[0];
  return pick.length > 300 ? pick.slice(0, 297) + "..." : pick;
}

function summary(s: SweepDef, c: Collected, dir: string): string {
  const front = c.fronts.flatMap((f) => f.front);
  const lines = [
    `sweep '${s.name}': ${c.rows.length} points — ${c.counts.ok} ok, ${c.counts.invalid} invalid, ${c.counts.failed} failed${c.counts.pending ? `, ${c.counts.pending} not run` : ""}`,
    `Pareto front over ${s.objectives.map(objectiveLabel).join(", ")}: ${front.length ? front.map((i) => `#${i}`).join(", ") : "(no point with every objective yet)"}`,
    `results: ${path.join(dir, "results.jsonl")}, results.csv, pareto.json, sweep.html (timing.jsonl: wall times)`,
  ];
  return lines.join("\n");
}

function failedList(c: Collected, dir: string): string[] {
  return c.rows.filter((r) => r.status === "failed").map((r) => `  #${r.index} ${r.label}: failed${r.failedStage ? ` in ${r.failedStage}` : ""}: ${headline(r.error)} (log ${path.join(dir, r.files.dir ?? POINTS, "log.txt")})`);
}

export async function sweepCommand(file: string, o: SweepOptions): Promise<SweepOutcome> {
  if (!o.out) throw new UsageError("no output folder given (-o DIR)");
  const t0 = Date.now();
  const s = loadSweep(file);
  const points = expandPoints(s);
  const dir = path.resolve(o.out);
  const say = (m: string) => process.stderr.write(`[sweep] ${m}\n`);
  if (o.point !== undefined) {
    if (o.slurm || o.collect) throw new UsageError("--point runs points itself; it does not combine with --slurm or --collect");
    return { code: await runPoints(s, points, dir, o.point) };
  }
  const spec = pointSpec(s);
  const isPending = (p: Point) => !isFinished(readResult(dir, p.key), spec, !!o.retryFailed);

  if (o.slurm && o.dryRun) {
    checkSweepDir(dir, { force: o.force });
    const pending = points.filter(isPending);
    if (!pending.length) {
      console.log(`# every point of ${s.file} already has a result in ${dir}: nothing to submit`);
      return { code: 0 };
    }
    const np = nextScript(dir);
    process.stdout.write(sbatchScript(s, s.file, dir, pending, o, np.path).script);
    return { code: 0 };
  }
  if (o.dryRun) throw new UsageError("--dry-run prints the Slurm script: use it with --slurm");

  initDir(s, points, dir, !!o.force, say);
  // invalid combinations need no worker: their result is the config's message
  for (const p of points) if (p.invalid && isPending(p)) await runPoint(s, p, dir, { log: () => {} });
  const pending = o.collect ? [] : points.filter(isPending);
  const finishedBefore = points.length - points.filter(isPending).length;
  const command = `st3d sweep ${file} -o ${o.out}${o.slurm ? " --slurm" : ""}`;
  let interrupted = false;
  if (pending.length) {
    const nInvalid = points.filter((p) => p.invalid).length;
    say(
      `${points.length} points (${nInvalid} invalid combination${nInvalid === 1 ? "" : "s"}); ${finishedBefore} already have a result; running ${pending.length}${o.slurm ? " on Slurm" : ` with ${Math.min(o.jobs ?? os.availableParallelism(), pending.length)} worker(s)`} — stages ${s.stages.join(", ")}`,
    );
    const prog = progress("sweep", { total: pending.length, unit: "points" });
    if (o.slurm) {
      const why = slurmAvailable();
      if (why) throw new UsageError(why);
      const np = nextScript(dir);
      const plan = sbatchScript(s, s.file, dir, pending, o, np.path);
      writeFileAtomic(np.path, plan.script);
      fs.chmodSync(np.path, 0o755);
      const wait = o.wait ?? true;
      const pendingKeys = pending.map((p) => p.key);
      const res = await submitAndFollow(dir, plan, np.path, np.n, {
        wait,
        progress: prog,
        doneCount: () => pendingKeys.filter((k) => isFinished(readResult(dir, k), spec, false) && fs.statSync(resultFile(dir, k)).mtimeMs >= t0).length,
      });
      interrupted = res.interrupted;
      if (!wait) {
        prog.done(`submitted job ${res.jobId}`);
        console.log(`submitted Slurm job ${res.jobId} (${plan.tasks.length} tasks, script ${np.path}); when it has finished: st3d sweep ${s.file} -o ${o.out} --collect`);
        return { code: 0 };
      }
      const c0 = writeCollected(s, points, dir, { command });
      // tasks whose points have no final result: list them with their logs
      const bad = plan.tasks
        .map((t, i) => ({ i, t, missing: t.filter((k) => !isFinished(readResult(dir, points[k].key), spec, true)) }))
        .filter((x) => x.missing.length);
      if (bad.length && !interrupted) {
        prog.fail();
        const lines = bad.map((b) => {
          const first = readResult(dir, points[b.missing[0]].key);
          const why = first ? `${first.status}${first.failedStage ? ` in ${first.failedStage}` : ""}: ${headline(first.error)}` : "no result (the task did not finish: time limit, node failure or cancelled?)";
          return `  task ${b.i} (point${b.t.length > 1 ? "s" : ""} ${b.t.join(",")}): ${why}\n    log: ${logPath(dir, res.jobId, b.i)}`;
        });
        console.log(summary(s, c0, dir));
        console.error(
          `st3d: ${bad.length} of ${plan.tasks.length} Slurm task(s) of job ${res.jobId} did not finish their points:\n${lines.join("\n")}\nresubmit them alone: sbatch --array=${bad.map((b) => b.i).join(",")} ${np.path}\n  (or every failed point: st3d sweep ${s.file} -o ${o.out} --slurm --retry-failed)`,
        );
        return { code: 1, collected: c0 };
      }
      if (!interrupted) prog.done(`job ${res.jobId}: ${pending.length} point(s)`);
      else prog.fail();
    } else {
      const jobs = Math.max(1, o.jobs ?? os.availableParallelism());
      const out = await runPool(pending, {
        jobs,
        file: s.file,
        dir,
        onDone: (p, r: PointResult | null, info) => {
          if (!r) {
            // the worker died without a result: record why, so the point is listed (and retried with --retry-failed)
            prog.log(`#${p.index} failed: its process ended (${info.signal ? `signal ${info.signal}` : `exit ${info.code}`}) without a result:\n${info.tail}`);
            writeFailedResult(s, p, dir, `the point's process ended (${info.signal ? `signal ${info.signal}` : `exit code ${info.code}`}) without writing a result`);
          } else if (r.status === "failed") prog.log(`#${p.index} failed${r.failedStage ? ` in ${r.failedStage}` : ""}: ${headline(r.error)} (log ${path.join(dir, POINTS, p.key, "log.txt")})`);
          prog.tick(1, `#${p.index} ${r?.status ?? "failed"}${r?.status === "ok" ? ` (${metricsSummary(r.metrics, s.objectives.map((x) => x.metric))})` : ""}`);
        },
      });
      interrupted = out.interrupted;
      if (interrupted) prog.fail();
      else prog.done(`${pending.length} point(s)`);
    }
  } else if (!o.collect) say(`every one of the ${points.length} points already has a result in ${dir}${o.retryFailed ? "" : " (--retry-failed runs the failed ones again)"}`);

  const c = writeCollected(s, points, dir, { command });
  if (interrupted) {
    const done = c.rows.filter((r) => r.status !== "pending").length;
    console.error(`st3d: sweep interrupted: ${done} of ${points.length} points have a result (kept; nothing half-written). Run the same command again to finish the other ${points.length - done}.`);
    return { code: 130, collected: c };
  }
  console.log(summary(s, c, dir));
  const failed = failedList(c, dir);
  if (failed.length) {
    console.error(`st3d: ${failed.length} point(s) failed:\n${failed.join("\n")}\nrun them again: st3d sweep ${s.file} -o ${o.out} --retry-failed${o.slurm ? " --slurm" : ""}`);
    return { code: 1, collected: c };
  }
  return { code: 0, collected: c };
}
