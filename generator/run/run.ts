/**
 * `st3d run` (SPEC §4): build the RTL of a config, load the weights and the input through
 * the accelerator's host port, simulate until done, write OUTDIR/output.npy and run.json.
 * `golden: true` runs the TypeScript golden model only.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import { buildDesign, type Design } from "../design.ts";
import { loadInput, loadModelDir } from "../model/tensors.ts";
import { runGolden, type Model } from "../model/golden.ts";
import { hostTbModule, renderHostTb } from "../package/package.ts";
import { serializeNpy } from "../util/npy.ts";
import { buildSim, runSim, type Built, type Sim } from "../sim/harness.ts";
import { decodeReads, hostProgram } from "./host.ts";
import type { Accelerator } from "../top/accelerator.ts";
import type { GeneratedFile } from "../core/files.ts";
import { REPO_ROOT } from "../core/paths.ts";

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunError";
  }
}

export type View = "2d" | "3d";

export interface RunOptions {
  weights: string;
  input: string;
  out: string;
  sim?: Sim;
  view?: View;
  golden?: boolean;
  /** build/cache folder (default build/run) */
  workDir?: string;
  log?: (msg: string) => void;
}

export interface RunSummary {
  output: number[][][];
  json: Record<string, unknown>;
}

/**
 * Write files into `dir` so that either all of them appear or none: every file is written to a
 * temporary name first; existing targets are moved aside, the new files renamed into place, and
 * on any failure the previous files are put back (and the temporaries removed).  Only the named
 * files are touched; `dir` is created if needed.
 */
export function writeAtomically(dir: string, files: { name: string; data: Buffer | string }[]): void {
  for (const f of files)
    if (!/^[A-Za-z0-9._-]+$/.test(f.name) || f.name.startsWith(".")) throw new RunError(`internal error: bad output file name '${f.name}'`);
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const tmps: [string, string][] = [];
  const backups: [string, string][] = [];
  const placed: string[] = [];
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of files) {
      const tmp = path.join(dir, `.${f.name}.tmp-${tag}`);
      tmps.push([tmp, path.join(dir, f.name)]);
      fs.writeFileSync(tmp, f.data);
    }
    for (const [, target] of tmps)
      if (fs.existsSync(target)) {
        const bak = `${target}.bak-${tag}`;
        fs.renameSync(target, bak);
        backups.push([bak, target]);
      }
    for (const [tmp, target] of tmps) {
      fs.renameSync(tmp, target);
      placed.push(target);
    }
  } catch (e) {
    for (const t of placed) fs.rmSync(t, { force: true });
    for (const [bak, target] of backups) {
      try {
        fs.renameSync(bak, target);
      } catch {
        /* leave the .bak file: better than losing it */
      }
    }
    for (const [tmp] of tmps) fs.rmSync(tmp, { force: true });
    throw new RunError(`cannot write the results into ${dir}: ${(e as Error).message}`);
  }
  for (const [bak] of backups) fs.rmSync(bak, { force: true });
}

/** Refuse an output folder that cannot hold the results, before any (long) work. */
export function checkRunOutDir(out: string): void {
  if (!out) throw new RunError("no output folder given (-o)");
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new RunError(`output folder ${out} exists and is not a folder`);
}

function lanesOf(r: Resolved): number {
  // synaptic accumulator lanes: attention engine + router engine + expert cores
  return r.hw.linearLanes + r.E + r.hw.expertCores * r.hw.linearLanes;
}

export function tbFiles(d: Design, view: View): { files: GeneratedFile[]; tb: string; top: string } {
  const acc = d.acc;
  const top = view === "2d" ? acc.top : `${d.r.name}_3d`;
  if (!d.files.some((f) => f.path === `${top}.v`)) throw new RunError(`view ${view}: the design has no ${top} (generate with integration.mode other than 2d for a 3D view)`);
  const tbModule = hostTbModule(d.r.name);
  const tb: GeneratedFile = renderHostTb(d.r, top, tbModule, `${tbModule}.v`);
  return { files: [...d.files.filter((f) => (f.kind === "rtl" || f.kind === "sim") && f.path.endsWith(".v")), tb], tb: tbModule, top };
}

/** Build (or reuse) the simulation binary of a design's view. */
export async function buildRunSim(d: Design, sim: Sim, view: View, workDir: string, log: (m: string) => void): Promise<Built> {
  const { files, tb } = tbFiles(d, view);
  const h = crypto.createHash("sha256");
  for (const f of files) h.update(f.path).update(f.content);
  const key = h.digest("hex").slice(0, 16);
  const dir = path.join(workDir, `${d.r.name}-${key}-${view}`);
  const stamp = path.join(dir, sim, "st3d-built");
  const srcDir = path.join(dir, "src");
  if (!fs.existsSync(srcDir)) {
    fs.mkdirSync(srcDir, { recursive: true });
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(srcDir, f.path)), { recursive: true });
      fs.writeFileSync(path.join(srcDir, f.path), f.content);
    }
  }
  if (fs.existsSync(stamp)) {
    log(`reusing the ${sim} build in ${path.relative(process.cwd(), dir)}`);
    return JSON.parse(fs.readFileSync(stamp, "utf8"));
  }
  log(`building the ${view} RTL with ${sim} (${files.length} files) ...`);
  const t0 = Date.now();
  const built = await buildSim(
    sim,
    files.map((f) => path.join(srcDir, f.path)),
    tb,
    dir,
  );
  fs.writeFileSync(stamp, JSON.stringify(built));
  log(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return built;
}

export async function st3dRun(r: Resolved, opts: RunOptions): Promise<RunSummary> {
  const log = opts.log ?? (() => {});
  // every input is checked before anything is written or built: a malformed input leaves no output
  checkRunOutDir(opts.out);
  const model: Model = loadModelDir(r, opts.weights);
  const U0 = loadInput(r, opts.input);
  const view = opts.view ?? "2d";
  if (opts.golden) {
    const t0 = Date.now();
    const g = runGolden(r, model, U0);
    const json = {
      design: r.name,
      configHash: r.hash,
      simulator: "golden",
      view: "golden",
      cycles: null,
      syn: g.stats.syn,
      synapticOps: g.stats.syn,
      spikes: g.stats.spikes,
      lifSpikes: g.stats.lifSpikes,
      routed: g.stats.routed,
      perBlock: g.stats.perLayer,
      seconds: (Date.now() - t0) / 1000,
    };
    finish(r, opts.out, g.out, json);
    return { output: g.out, json };
  }
  const sim = opts.sim ?? "verilator";
  const d = buildDesign(r);
  const workDir = path.resolve(opts.workDir ?? path.join(REPO_ROOT, "build", "run"));
  const built = await buildRunSim(d, sim, view, workDir, log);
  const prog = hostProgram(d.acc, model, U0);
  const runDir = fs.mkdtempSync(path.join(built.workDir, "run-"));
  try {
    const cmd = path.join(runDir, "host.cmd");
    const outFile = path.join(runDir, "host.out");
    fs.writeFileSync(cmd, prog.lines.join("\n") + "\n");
    log(`simulating: ${prog.writes} host writes, then the inference, then ${prog.reads.length} reads ...`);
    const t0 = Date.now();
    const res = await runSim(built, [`+cmd=${cmd}`, `+out=${outFile}`], 1);
    const seconds = (Date.now() - t0) / 1000;
    if (!res.pass) throw new RunError(`the ${sim} simulation did not finish (exit ${res.code}):\n${res.output.split("\n").slice(-15).join("\n")}`);
    const values = fs
      .readFileSync(outFile, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((x) => parseInt(x, 16));
    const dec = decodeReads(d.acc, prog, values);
    const expectId = parseInt(r.hash.slice(-8), 16) >>> 0;
    if (dec.id !== expectId) throw new RunError(`the simulated design reports config id ${dec.id.toString(16)}, expected ${expectId.toString(16)}`);
    const lanes = lanesOf(r);
    const simCycles = Number(res.lines.find((l) => l.startsWith("SIMCYCLES "))?.slice(10) ?? 0);
    const json = {
      design: r.name,
      configHash: r.hash,
      simulator: sim,
      view,
      cycles: dec.cycles,
      perLayer: dec.perLayer,
      spikes: dec.spikes,
      spikesByStage: { s0qkv: dec.spikes, o: dec.spikesO, s1: dec.spikesS1, h: dec.spikesH },
      synapticOps: dec.syn,
      synByHalf: { attention: dec.synAttn, moe: dec.synMoe },
      routed: dec.routed,
      lanes,
      utilization: dec.cycles ? dec.syn / (lanes * dec.cycles) : 0,
      hostWrites: prog.writes,
      simulatedCycles: simCycles,
      wallSeconds: seconds,
    };
    finish(r, opts.out, dec.out, json);
    return { output: dec.out, json };
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

function finish(r: Resolved, out: string, U: number[][][], json: Record<string, unknown>): void {
  const flat: number[] = [];
  for (const a of U) for (const b of a) for (const c of b) flat.push(c);
  writeAtomically(out, [
    { name: "output.npy", data: serializeNpy([r.T, r.N, r.D], flat, "<i4") },
    { name: "run.json", data: JSON.stringify(json, null, 2) + "\n" },
  ]);
}
