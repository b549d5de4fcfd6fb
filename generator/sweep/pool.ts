/**
 * The local worker pool: up to `jobs` points at once, each in its own process
 * (`st3d sweep FILE -o DIR --point I`, exactly what a Slurm task runs), so a local run and a
 * cluster run execute the same code and write the same result files.
 *
 * Each worker leads its own process group (with the simulator, Verilator's compiler, Yosys
 * under it).  On Ctrl-C (SIGINT), SIGTERM or SIGHUP the pool sends SIGTERM to every group,
 * SIGKILL 3 s later to whatever is left, waits for all of them, and removes their temporaries
 * (in the sweep folder and in st3d's caches): finished points stay, nothing is half-written,
 * and the next run does only the missing points.
 *
 * Each worker gets ST3D_JOBS = cores / workers (at least 1) for its own parallel steps (Yosys),
 * so that N workers do not start N × cores processes.
 *
 * Two points of the same configuration (different workloads) never run at once: the second
 * one then reuses the first one's simulator build from the cache instead of building it again.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../core/paths.ts";
import type { Point } from "./file.ts";
import { readResult, resultFile, type PointResult } from "./point.ts";
import { POINTS, removeCacheTempsOf, removeStaleTemps } from "./outdir.ts";

export const ST3D_BIN = path.join(REPO_ROOT, "bin", "st3d.js");

export interface PoolOptions {
  jobs: number;
  /** absolute sweep file and folder */
  file: string;
  dir: string;
  /** a point finished (result null: its process died without writing one) */
  onDone: (p: Point, result: PointResult | null, info: { code: number | null; signal: NodeJS.Signals | null; tail: string }) => void;
  onStart?: (p: Point) => void;
}

export interface PoolOutcome {
  interrupted: boolean;
  /** the signal that interrupted the pool */
  signal?: NodeJS.Signals;
}

function killGroup(c: ChildProcess, sig: NodeJS.Signals): void {
  if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) return;
  try {
    process.kill(-c.pid, sig);
  } catch {
    try {
      c.kill(sig);
    } catch {
      /* gone */
    }
  }
}

/**
 * Parallel jobs inside one worker (Yosys processes of the physical and report stages): the
 * cores shared out between the workers, at least 1; a user's ST3D_JOBS wins.
 */
export function workerJobs(workers: number, env = process.env): string {
  const own = Number(env.ST3D_JOBS);
  if (Number.isInteger(own) && own > 0) return String(own);
  return String(Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, workers))));
}

export async function runPool(points: Point[], o: PoolOptions): Promise<PoolOutcome> {
  const queue = [...points];
  const running = new Map<number, { p: Point; c: ChildProcess }>();
  const pids = new Set<number>();
  let interrupted: NodeJS.Signals | undefined;
  let interruptedAt = 0;
  const cut = new Set<Point>();
  let wake: () => void = () => {};

  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    interruptedAt = Date.now();
    for (const { p } of running.values()) cut.add(p);
    queue.length = 0;
    for (const { c } of running.values()) killGroup(c, "SIGTERM");
    setTimeout(() => {
      for (const { c } of running.values()) killGroup(c, "SIGKILL");
    }, 3000).unref();
    wake();
  };
  const sigs: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of sigs) process.on(s, onSignal);

  const start = (p: Point) => {
    // the worker leads its own process group (detached); it learns so from ST3D_SWEEP_GROUP = "self"
    const c = spawn(process.execPath, [ST3D_BIN, "sweep", o.file, "-o", o.dir, "--point", String(p.index)], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ST3D_PROGRESS: "plain", ST3D_SWEEP_GROUP: "self", ST3D_JOBS: workerJobs(o.jobs) },
    });
    if (c.pid !== undefined) pids.add(c.pid);
    const lines: string[] = [];
    const keep = (b: Buffer) => {
      for (const l of b.toString("utf8").split("\n")) if (l.trim()) lines.push(l);
      if (lines.length > 200) lines.splice(0, lines.length - 200);
    };
    c.stdout!.on("data", keep);
    c.stderr!.on("data", keep);
    running.set(p.index, { p, c });
    o.onStart?.(p);
    c.on("close", (code, signal) => {
      running.delete(p.index);
      // a worker that was killed (or crashed) cannot remove its temporaries: do it for it
      if ((signal || code) && c.pid !== undefined) {
        removeStaleTemps(o.dir, new Set([c.pid]));
        removeCacheTempsOf(new Set([c.pid]));
      }
      if (!interrupted) o.onDone(p, readResult(o.dir, p.key), { code, signal, tail: lines.slice(-15).join("\n") });
      wake();
    });
    c.on("error", () => {
      /* reported through close */
    });
  };

  try {
    for (;;) {
      while (!interrupted && running.size < o.jobs && queue.length) {
        const busy = new Set([...running.values()].map((r) => r.p.group));
        const k = queue.findIndex((p) => !busy.has(p.group));
        if (k < 0) break;
        start(queue.splice(k, 1)[0]);
      }
      if (running.size === 0 && (interrupted || queue.length === 0)) break;
      await new Promise<void>((res) => (wake = res));
    }
  } finally {
    for (const s of sigs) process.off(s, onSignal);
  }
  if (interrupted) {
    removeStaleTemps(o.dir, pids);
    removeCacheTempsOf(pids);
    // a point that "failed" after the signal was killed by it, not by its design: drop that
    // result (and its folder) so the next run does the point again
    for (const p of cut) {
      const f = resultFile(o.dir, p.key);
      const r = readResult(o.dir, p.key);
      try {
        if (r && r.status === "failed" && fs.statSync(f).mtimeMs >= interruptedAt - 1000) {
          fs.rmSync(f, { force: true });
          fs.rmSync(path.join(o.dir, POINTS, p.key), { recursive: true, force: true });
        }
      } catch {
        /* gone already */
      }
    }
  }
  return { interrupted: interrupted !== undefined, signal: interrupted };
}
