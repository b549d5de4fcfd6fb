/**
 * Slurm: the sweep as one job array.  `st3d sweep FILE -o DIR --slurm` writes
 * DIR/slurm/sweep-<n>.sbatch (task i runs `st3d sweep FILE -o DIR --point <its points>`),
 * submits it with `sbatch --parsable --wait`, shows the progress from the result files (and
 * squeue's task states) while it waits, then collects.  DIR must be on a file system every node
 * sees (and so should st3d's cache, $ST3D_CACHE), since the tasks write their results there.
 *
 * A task whose points have no final result afterwards is listed with its log
 * (DIR/slurm/logs/<job>_<task>.log); `sbatch --array=<task> DIR/slurm/sweep-<n>.sbatch`
 * resubmits it alone, `st3d sweep FILE -o DIR --slurm --retry-failed` every failed point.
 */
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ST3D_VERSION } from "../config/resolve.ts";
import type { Progress } from "../progress/progress.ts";
import { UsageError, type Point, type SweepDef } from "./file.ts";
import { ST3D_BIN } from "./pool.ts";
import { SLURM, writeFileAtomic } from "./outdir.ts";

export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpusPerTask?: number;
  /** extra sbatch options, one `#SBATCH` line each (e.g. "--mem=4G", "--account=abc") */
  sbatchArgs?: string[];
  /** points per array task (default: the points of one configuration) */
  chunk?: number;
  /** at most this many tasks at once (--array=...%N) */
  maxParallel?: number;
}

export interface SbatchPlan {
  script: string;
  /** points (indices) of each array task */
  tasks: number[][];
}

const shq = (s: string) => (/^[A-Za-z0-9_./+=:,@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The job-array script for `pending` (run from `cwd`, results into `dir`; both absolute). */
export function sbatchScript(s: SweepDef, file: string, dir: string, pending: Point[], o: SlurmOptions, scriptPath: string): SbatchPlan {
  // default: one task per configuration (its workloads run one after the other and share its
  // simulator build); --chunk N: N points per task, in index order
  const tasks: number[][] = [];
  if (o.chunk) for (let i = 0; i < pending.length; i += o.chunk) tasks.push(pending.slice(i, i + o.chunk).map((p) => p.index));
  else
    for (const p of pending) {
      const last = tasks[tasks.length - 1];
      const cfg = (i: number) => pending.find((q) => q.index === i)!.key.split("-")[0];
      if (last && cfg(last[0]) === p.key.split("-")[0]) last.push(p.index);
      else tasks.push([p.index]);
    }
  const spec = (t: number[]) => {
    // "3" / "4-7" / "1,5,9"
    const contiguous = t.every((v, i) => i === 0 || v === t[i - 1] + 1);
    return t.length > 1 && contiguous ? `${t[0]}-${t[t.length - 1]}` : t.join(",");
  };
  for (const a of o.sbatchArgs ?? [])
    if (!a.startsWith("-") || /[\n\r]/.test(a)) throw new UsageError(`--sbatch-arg '${a}': give one sbatch option per --sbatch-arg, starting with '-' (e.g. --sbatch-arg=--mem=4G)`);
  const name = `st3d-${s.name}`.slice(0, 60);
  const lines = [
    "#!/bin/bash",
    `# st3d sweep '${s.name}' (digest ${s.digest}): ${pending.length} point(s) in ${tasks.length} array task(s), written by st3d ${ST3D_VERSION}.`,
    `# Task i runs the points POINTS[i].  Resubmit one task alone: sbatch --array=<i> ${scriptPath}`,
    `#SBATCH --job-name=${name}`,
    `#SBATCH --array=0-${tasks.length - 1}${o.maxParallel ? `%${o.maxParallel}` : ""}`,
    `#SBATCH --output=${path.join(dir, SLURM, "logs", "%A_%a.log")}`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 1}`,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.sbatchArgs ?? []).map((a) => `#SBATCH ${a}`),
    "set -euo pipefail",
    `POINTS=(${tasks.map((t) => `"${spec(t)}"`).join(" ")})`,
    `cd ${shq(process.cwd())}`,
    "export ST3D_PROGRESS=plain",
    "# parallel steps of a point (Yosys) use the task's CPUs, unless ST3D_JOBS is set",
    'export ST3D_JOBS="${ST3D_JOBS:-${SLURM_CPUS_PER_TASK:-1}}"',
    `echo "st3d sweep task $SLURM_ARRAY_TASK_ID (job $SLURM_ARRAY_JOB_ID) on $(hostname): points \${POINTS[$SLURM_ARRAY_TASK_ID]}"`,
    `exec "\${ST3D_NODE:-${process.execPath}}" ${shq(ST3D_BIN)} sweep ${shq(file)} -o ${shq(dir)} --point "\${POINTS[$SLURM_ARRAY_TASK_ID]}"`,
    "",
  ];
  return { script: lines.join("\n"), tasks };
}

export function slurmAvailable(): string | null {
  for (const t of ["sbatch", "squeue", "scancel"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
    } catch {
      return `${t} not found: --slurm needs the Slurm client commands (sbatch, squeue, scancel) on this machine`;
    }
  }
  return null;
}

export interface Submission {
  n: number;
  jobId: string;
  script: string;
  tasks: number[][];
}

/** The next free script number in DIR/slurm. */
export function nextScript(dir: string): { n: number; path: string } {
  const d = path.join(dir, SLURM);
  let n = 1;
  try {
    for (const f of fs.readdirSync(d)) {
      const m = /^sweep-(\d+)\.sbatch$/.exec(f);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
  } catch {
    /* none yet */
  }
  return { n, path: path.join(d, `sweep-${n}.sbatch`) };
}

export function readSubmissions(dir: string): Submission[] {
  try {
    return fs
      .readFileSync(path.join(dir, SLURM, "submissions.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Submission);
  } catch {
    return [];
  }
}

function recordSubmission(dir: string, sub: Submission): void {
  const all = [...readSubmissions(dir), sub];
  writeFileAtomic(path.join(dir, SLURM, "submissions.jsonl"), all.map((x) => JSON.stringify(x)).join("\n") + "\n");
}

export function logPath(dir: string, jobId: string, task: number): string {
  return path.join(dir, SLURM, "logs", `${jobId}_${task}.log`);
}

function squeueStates(jobId: string): Promise<Record<string, number>> {
  return new Promise((res) => {
    const c = spawn("squeue", ["-h", "-r", "-j", jobId, "-o", "%T"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    c.stdout.on("data", (b) => (out += b));
    c.on("close", () => {
      const n: Record<string, number> = {};
      for (const l of out.split("\n").map((x) => x.trim()).filter(Boolean)) n[l] = (n[l] ?? 0) + 1;
      res(n);
    });
    c.on("error", () => res({}));
  });
}

export interface FollowOptions {
  wait: boolean;
  /** how many of the submitted points are done now (result files) */
  doneCount: () => number;
  progress: Progress;
  pollMs?: number;
}

/**
 * Submit the script (already written to `scriptPath`) and, with `wait`, follow the job until
 * every task has ended.  Ctrl-C cancels the job (scancel) and resolves with interrupted.
 */
export async function submitAndFollow(dir: string, plan: SbatchPlan, scriptPath: string, n: number, o: FollowOptions): Promise<{ jobId: string; interrupted: boolean; sbatchCode: number | null }> {
  fs.mkdirSync(path.join(dir, SLURM, "logs"), { recursive: true });
  const args = ["--parsable", ...(o.wait ? ["--wait"] : []), scriptPath];
  const c = spawn("sbatch", args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  let jobId = "";
  let gotId: () => void = () => {};
  const idPromise = new Promise<void>((res) => (gotId = res));
  c.stdout.on("data", (b) => {
    out += b;
    const m = /^(\d+)/m.exec(out);
    if (m && !jobId) {
      jobId = m[1];
      gotId();
    }
  });
  c.stderr.on("data", (b) => (err += b));
  const closed = new Promise<number | null>((res) => c.on("close", (code) => res(code)));
  c.on("error", () => {});
  const first = await Promise.race([idPromise.then(() => "id" as const), closed.then(() => "closed" as const)]);
  if (first === "closed" && !jobId) throw new UsageError(`sbatch refused the job (${scriptPath}):\n${(err || out).trim()}`);
  recordSubmission(dir, { n, jobId, script: path.relative(dir, scriptPath), tasks: plan.tasks });
  o.progress.log(`submitted job ${jobId}: ${plan.tasks.length} array task(s), logs in ${path.join(dir, SLURM, "logs")}/${jobId}_<task>.log`);
  if (!o.wait) {
    await closed;
    return { jobId, interrupted: false, sbatchCode: 0 };
  }
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    o.progress.log(`cancelling job ${jobId} (scancel) ...`);
    spawn("scancel", [jobId], { stdio: "ignore" }).on("error", () => {});
  };
  const sigs: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of sigs) process.on(s, onSignal);
  let stop = false;
  const poll = (async () => {
    while (!stop) {
      await new Promise((r) => setTimeout(r, o.pollMs ?? 2000));
      if (stop) break;
      const states = await squeueStates(jobId);
      const note = Object.entries(states)
        .map(([k, v]) => `${v} ${k.toLowerCase()}`)
        .join(", ");
      o.progress.set(o.doneCount(), note ? `job ${jobId}: ${note}` : `job ${jobId}`);
    }
  })();
  const code = await closed;
  stop = true;
  await poll;
  for (const s of sigs) process.off(s, onSignal);
  o.progress.set(o.doneCount());
  return { jobId, interrupted, sbatchCode: code };
}
