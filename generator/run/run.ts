/**
 * `st3d run` (SPEC §4): build the RTL of a config (in the st3d cache), load the weights and
 * the input through the accelerator's host port, simulate until done, read U_L and the
 * counters back, and write the output folder (generator/output.ts rules):
 *   output.npy   U_L, int32 [T, N, D]
 *   run.json     counters and timings; keys in docs/RUN.md (one set for golden and RTL runs)
 *   waves.vcd | waves.fst   with --waves
 *   debug/       with --keep: sources, build.sh, the binary, host.cmd, host.out, trace, replay.sh
 * `golden: true` runs the TypeScript golden model only.  `check` compares the RTL with the
 * golden model tensor by tensor (generator/run/check.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Resolved } from "../config/resolve.ts";
import type { Design } from "../design.ts";
import { loadInput, loadModelDir } from "../model/tensors.ts";
import { runGolden, type GoldenResult, type Model } from "../model/golden.ts";
import { hostTbModule, renderHostTb } from "../package/package.ts";
import { serializeNpy } from "../util/npy.ts";
import { beginOutputDir, checkOutputDir, onInterrupt, type OutputStage } from "../output.ts";
import { progress } from "../progress/progress.ts";
import { which } from "../toolchain/tools.ts";
import { tail } from "../toolchain/verilator.ts";
import { decodeReads, hostProgramAsync } from "./host.ts";
import { buildSimCached, runSimStreaming, shq, simCommand, type Sim, type SimBuild, type SimSource, type WavesFormat } from "./sim.ts";
import { checkRun, describeCheck, replayUmemTrace, type CheckReport } from "./check.ts";
import { cutVcd, GTKWAVE_FIX, vcdToFst } from "./waves.ts";
import { designFor, synthConfig, type PhysicalOptions } from "../physical/design.ts";
import { activityDefines, activityMonitor, parseActivity, type Activity } from "../physical/activity.ts";
import { gateLevelFiles } from "../physical/gatelevel.ts";
import type { GeneratedFile } from "../core/files.ts";
import { OFFCHIP_PLUS } from "../package/package.ts";
import { offchipMemPlusargs } from "../blocks/weightStream/testbench.ts";
import { poolStreamImage, poolStreamOrder } from "../blocks/weightStream/poolStream.ts";
import { weightStreamTraffic } from "../blocks/weightStream/weightStream.ts";
import type { SynPoolParams } from "../blocks/synPool/synPool.ts";
import { synPoolBlock } from "../blocks/synPool/synPool.ts";

/** The pool's params of a design (its weight stream, when the weights are off chip). */
function acc0(d: Design): SynPoolParams {
  return d.acc.blocks.find((b) => b.entry.block === synPoolBlock)!.params as SynPoolParams;
}

export class RunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunError";
  }
}

export type View = "2d" | "3d";
export type { Sim };

export interface RunOptions {
  weights: string;
  input: string;
  out: string;
  sim?: Sim;
  view?: View;
  golden?: boolean;
  /** replace st3d's own earlier results in `out` even where they were edited */
  force?: boolean;
  /** dump a waveform (waves.vcd / waves.fst) */
  waves?: WavesFormat;
  /** with waves: simulation cycles [from, to] (either end open) */
  wavesWindow?: { from?: number; to?: number };
  /** keep the build, the host command file and a replay script in out/debug/ */
  keep?: boolean;
  /** stop the simulation (as a failure) after this many clock cycles (default 100,000,000) */
  maxCycles?: number;
  /** compare with the golden model; a string: the golden model runs on that weights folder */
  check?: boolean | string;
  /** progress lines on stderr (the CLI turns them on) */
  progress?: boolean;
  /** extra messages (cache entry used, ...) */
  log?: (msg: string) => void;
  /** cache root override (tests); default $ST3D_CACHE, ... */
  cacheRoot?: string;
  /** simulate the mapped gate-level netlist instead of the RTL (generator/physical/gatelevel.ts) */
  netlist?: boolean;
  /** cell library and synthesis options of --netlist (and of auto/logic-on-logic partitioning) */
  physical?: PhysicalOptions;
  /** weights off chip: the memory model's latency, cycles from a burst's AR handshake to its first beat at the earliest (default 100) */
  memLatency?: number;
  /** weights off chip: the memory model's bandwidth in bytes per cycle, fractions allowed (default 16) */
  memBandwidth?: number;
}

/** Defaults of --mem-latency and --mem-bandwidth (docs/RUN.md). */
export const MEM_LATENCY_DEFAULT = 100;
export const MEM_BANDWIDTH_DEFAULT = 16;

/** The off-chip weight traffic of a run with the weights off chip (docs/RUN.md "offchip"). */
export interface OffchipJson {
  /** bytes read from off-chip memory: beats x offchipBeatBits / 8 (ctrl's WBEATS) */
  bytesRead: number;
  /** AR bursts (ctrl's WBURSTS) */
  bursts: number;
  /** R beats (ctrl's WBEATS) */
  beats: number;
  /** cycles the pool's weight read waited for a word not yet arrived (ctrl's WWAIT) */
  waitCycles: number;
  /** the memory model: --mem-latency (cycles) and --mem-bandwidth (bytes per cycle) */
  latency: number;
  bandwidth: number;
  /** bytes of the weights proper in the words read: beats / K x P*weightBits / 8 */
  weightBytes: number;
  /** padding of the image: bytesRead = weightBytes x (1 + overhead), overhead = K x W / (P*weightBits) - 1 */
  overhead: number;
  /** bytes of every pool layer's weights (all experts): the image without padding */
  modelWeightBytes: number;
  /** beat width W in bits and beats per word K */
  beatBits: number;
  beatsPerWord: number;
  /** with --check: the exact traffic of the golden model's routing (each used layer fetched once; unrouted experts not at all) */
  expected: { beats: number; bursts: number; bytes: number } | null;
}

/** A bandwidth in bytes per cycle as num / den for the memory model (den a power of ten up to 10^6). */
export function bandwidthRatio(bw: number): { num: number; den: number } {
  if (!(Number.isFinite(bw) && bw > 0)) throw new RunError(`--mem-bandwidth must be a positive number of bytes per cycle (got ${bw})`);
  for (let den = 1; den <= 1e6; den *= 10) {
    const num = Math.round(bw * den);
    if (Math.abs(num - bw * den) < 1e-6 && num >= 1 && num < 2 ** 31) {
      const g = gcd(num, den);
      return { num: num / g, den: den / g };
    }
  }
  throw new RunError(`--mem-bandwidth ${bw}: use at most 6 decimals (and less than 2^31 bytes per cycle)`);
}
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** run.json; docs/RUN.md documents every key (stable: add keys, never rename). */
export interface RunJson {
  schema: "st3d-run/1";
  st3d: string;
  design: string;
  configHash: string;
  simulator: "golden" | Sim;
  view: View | null;
  status: "ok" | "check-failed" | "sim-failed";
  weights: string;
  input: string;
  cycles: number | null;
  synapticOps: number | null;
  synapticOpsByHalf: { attention: number; moe: number } | null;
  spikes: number | null;
  spikesByStage: { s0qkv: number; o: number; s1: number; h: number } | null;
  lifSpikes: number | null;
  routed: number | null;
  lanes: number;
  /** synapticOps / lanes: the cycles an inference would take with every lane busy every cycle */
  laneBound: number | null;
  utilization: number | null;
  /** per synaptic engine (the shared pool, the router engine): lanes, ops, utilization, cycles per perf class */
  engines: { pool: EngineJson; router: EngineJson } | null;
  perBlock: {
    block: number;
    cycles: number | null;
    phaseCycles: Record<string, number> | null;
    startCycle: { attention: number | null; moe: number | null } | null;
    synapticOps: number | null;
    spikesByStage: { s0qkv: number; o: number; s1: number; h: number } | null;
    routed: number | null;
  }[];
  hostWrites: number | null;
  simulatedCycles: number | null;
  startCycle: number | null;
  doneCycle: number | null;
  seconds: number;
  buildSeconds: number | null;
  files: string[];
  waves: { file: string; format: WavesFormat; fromCycle: number; toCycle: number | null } | null;
  check: CheckReport | null;
  error: string | null;
  /** --netlist: the cell models and the library of the gate-level simulation */
  netlist: { cells: string; library: string } | null;
  /** activity of the inference for the power model (generator/physical/activity.ts); null for --golden */
  activity: Activity | null;
  /** hardware.weightsOnChip false: the off-chip weight traffic (null: weights on chip, or --golden) */
  offchip: OffchipJson | null;
}

export interface RunSummary {
  output: number[][][];
  json: RunJson;
  /** files written into the output folder */
  files: string[];
}

/** Refuse an output folder that cannot hold the results, before any (long) work. */
export function checkRunOutDir(out: string, force = false): void {
  if (!out) throw new RunError("no output folder given (-o)");
  checkOutputDir(out, { force });
}

/** Synaptic accumulator lanes: the shared pool and the router engine (hardware.synapticLanes split by laneSplit). */
function lanesOf(r: Resolved): number {
  return r.hw.poolLanes + r.hw.routerLanes;
}

/** One synaptic engine in run.json (docs/RUN.md "engines"). */
export interface EngineJson {
  lanes: number;
  synapticOps: number;
  /** synapticOps / (lanes x cycles) */
  utilization: number;
  /** cycles of each perf class while the dataflow unit is busy (docs/ARCHITECTURE.md "linearEngine"): idle, collect, starve (waiting for input), work, fill, waitW (waiting for weights), drain, stall (output / memory port not ready) */
  cycles: Record<string, number>;
}

function enginesJson(r: Resolved, cycles: number, syn: { pool: number; router: number }, classes: { pool: Record<string, number>; router: Record<string, number> }): { pool: EngineJson; router: EngineJson } {
  const one = (lanes: number, ops: number, c: Record<string, number>): EngineJson => ({ lanes, synapticOps: ops, utilization: cycles ? ops / (lanes * cycles) : 0, cycles: c });
  return { pool: one(r.hw.poolLanes, syn.pool, classes.pool), router: one(r.hw.routerLanes, syn.router, classes.router) };
}

/** Hierarchical path of a top-level instance (u_ctrl, u_dataflow) under the testbench's `dut` (for the probes). */
function instProbe(d: Design, top: string, inst: string): string {
  if (top === d.acc.top) return `dut.${inst}`;
  const topFile = d.files.find((f) => f.path === `${top}.v`);
  const decl = new RegExp(`^\\s*[A-Za-z_][\\w$]*\\s+${inst}\\s*\\(`, "m");
  for (const m of topFile?.content.matchAll(/^\s*([A-Za-z_][\w$]*)\s+([A-Za-z_][\w$]*)\s*\(/gm) ?? []) {
    const f = d.files.find((x) => x.path === `${m[1]}.v`);
    if (f && decl.test(f.content)) return `dut.${m[2]}.${inst}`;
  }
  throw new RunError(`internal error: no ${inst} instance found under ${top}`);
}

/**
 * The simulation sources of a view: the design's RTL and simulation models (or `designFiles`,
 * e.g. a gate-level netlist), the activity monitor of the power model (compiled in by the
 * ST3D_ACTIVITY define, generator/physical/activity.ts) and the host testbench.
 */
export function tbFiles(d: Design, view: View, designFiles?: GeneratedFile[]): { files: SimSource[]; tb: string; top: string } {
  const acc = d.acc;
  const top = view === "2d" ? acc.top : `${d.r.name}_3d`;
  if (!d.files.some((f) => f.path === `${top}.v`)) throw new RunError(`view ${view}: the design has no ${top} (generate with integration.mode other than 2d for a 3D view)`);
  const tbModule = hostTbModule(d.r.name);
  const tb = renderHostTb(d.r, top, tbModule, `${tbModule}.v`, instProbe(d, top, "u_ctrl"), instProbe(d, top, "u_dataflow"));
  const assign = d.threeD?.assign;
  const monitor = activityMonitor(d.r, acc.netlist, tbModule, view === "3d" && assign ? (i) => assign.get(i)! : null);
  const sources = designFiles ?? d.files.filter((f) => (f.kind === "rtl" || f.kind === "sim") && f.path.endsWith(".v"));
  return { files: [...sources, monitor, tb], tb: tbModule, top };
}

/** Build (or reuse from the st3d cache) the simulation of a design's view. */
export async function buildRunSim(d: Design, sim: Sim, view: View, opts: { waves?: WavesFormat; log?: (m: string) => void; root?: string; designFiles?: GeneratedFile[] } = {}): Promise<SimBuild> {
  const { files, tb } = tbFiles(d, view, opts.designFiles);
  return buildSimCached(sim, files, tb, { waves: opts.waves, probes: !opts.designFiles, defines: activityDefines(d.r, tb), log: opts.log, root: opts.root });
}

const flat3 = (U: number[][][]) => U.flat(2);

function goldenCounts(g: GoldenResult) {
  const s = g.stats;
  const st = (k: "s0" | "q" | "k" | "v" | "o" | "s1" | "h") => s.perLayer.reduce((a, b) => a + b.spikes[k], 0);
  const half = (b: (typeof s.perLayer)[number]) => ({ attention: b.syn.q + b.syn.k + b.syn.v + b.syn.o, moe: b.syn.router + b.syn.fc1 + b.syn.fc2 });
  return {
    synapticOps: s.syn,
    synapticOpsByHalf: s.perLayer.map(half).reduce((a, b) => ({ attention: a.attention + b.attention, moe: a.moe + b.moe }), { attention: 0, moe: 0 }),
    spikes: s.spikes,
    spikesByStage: { s0qkv: s.spikes, o: st("o"), s1: st("s1"), h: st("h") },
    lifSpikes: s.lifSpikes,
    routed: s.routed,
    perBlock: s.perLayer.map((b) => ({
      block: b.block,
      cycles: null,
      phaseCycles: null,
      startCycle: null,
      synapticOps: half(b).attention + half(b).moe,
      spikesByStage: { s0qkv: b.spikes.s0 + b.spikes.q + b.spikes.k + b.spikes.v, o: b.spikes.o, s1: b.spikes.s1, h: b.spikes.h },
      routed: b.routed,
    })),
  };
}

function baseJson(r: Resolved, opts: RunOptions, simulator: RunJson["simulator"], view: View | null): RunJson {
  return {
    schema: "st3d-run/1",
    st3d: r.version,
    design: r.name,
    configHash: r.hash,
    simulator,
    view,
    status: "ok",
    weights: path.resolve(opts.weights),
    input: path.resolve(opts.input),
    cycles: null,
    synapticOps: null,
    synapticOpsByHalf: null,
    spikes: null,
    spikesByStage: null,
    lifSpikes: null,
    routed: null,
    lanes: lanesOf(r),
    laneBound: null,
    utilization: null,
    engines: null,
    perBlock: [],
    hostWrites: null,
    simulatedCycles: null,
    startCycle: null,
    doneCycle: null,
    seconds: 0,
    buildSeconds: null,
    files: [],
    waves: null,
    check: null,
    error: null,
    netlist: null,
    activity: null,
    offchip: null,
  };
}

function outputNpy(r: Resolved, U: number[][][]): Buffer {
  return serializeNpy([r.T, r.N, r.D], flat3(U), "<i4");
}

function parseWindow(w: RunOptions["wavesWindow"]): { from: number; to: number | null } {
  const from = w?.from ?? 0;
  const to = w?.to ?? null;
  for (const [k, v] of [
    ["from", from],
    ["to", to],
  ] as const)
    if (v !== null && !(Number.isSafeInteger(v) && v >= 0)) throw new RunError(`--waves-window: ${k} must be a cycle number >= 0 (got ${v})`);
  if (to !== null && to < from) throw new RunError(`--waves-window: the window ends (cycle ${to}) before it starts (cycle ${from})`);
  return { from, to };
}

export async function st3dRun(r: Resolved, opts: RunOptions): Promise<RunSummary> {
  const log = opts.log ?? (() => {});
  const quiet = !opts.progress;
  const step = (label: string, o: Parameters<typeof progress>[1] = {}) => progress(label, quiet ? { ...o, stream: { write: () => true, isTTY: false } as unknown as NodeJS.WritableStream } : o);
  // every input is checked before anything is written or built: a malformed input leaves no output
  if (!opts.out) throw new RunError("no output folder given (-o)");
  const model: Model = loadModelDir(r, opts.weights);
  const U0 = loadInput(r, opts.input);
  const goldenWeights = typeof opts.check === "string" ? opts.check : opts.weights;
  const goldenModel = typeof opts.check === "string" ? loadModelDir(r, opts.check) : model;
  checkRunOutDir(opts.out, opts.force);
  const view = opts.view ?? "2d";
  const meta = { generator: `st3d ${r.version}`, command: "run", design: r.name, configHash: r.hash };

  if (opts.golden) {
    if (opts.waves || opts.keep || opts.check) throw new RunError("--waves, --keep and --check need an RTL simulation (drop --golden)");
    const t0 = Date.now();
    const g = runGolden(r, model, U0);
    const json: RunJson = { ...baseJson(r, opts, "golden", null), ...goldenCounts(g), seconds: (Date.now() - t0) / 1000 };
    const stage = beginOutputDir(opts.out, meta, { force: opts.force });
    stage.write({ path: "output.npy", kind: "data", content: outputNpy(r, g.out) });
    json.files = ["output.npy", "run.json"];
    stage.write({ path: "run.json", kind: "report", content: JSON.stringify(json, null, 2) + "\n" });
    stage.commit();
    return { output: g.out, json, files: json.files };
  }

  if (opts.netlist && opts.check) throw new RunError("--check probes the RTL hierarchy (ctrl, dataflow): it cannot run on the gate-level --netlist; the netlist run is compared with the golden model on its output");
  const sim = opts.sim ?? "verilator";
  const window = parseWindow(opts.wavesWindow);
  const waves = opts.waves;
  if (!waves && opts.wavesWindow) throw new RunError("--waves-window needs --waves");
  // Verilator ignores $dumpoff: a window end is applied by cutting the VCD (FST: via VCD, then vcd2fst)
  const viaVcd = sim === "verilator" && waves === "fst" && window.to !== null;
  if (viaVcd && !which("vcd2fst")) throw new RunError(`an FST window with an end cycle on Verilator is written through VCD and needs vcd2fst: ${GTKWAVE_FIX}; or use --waves vcd`);

  const d = await designFor(r, { ...opts.physical, progressLabel: "run: synth" });
  // --netlist: the mapped gate-level netlist of the view instead of the RTL (no probes: they need the RTL hierarchy)
  const gl = opts.netlist ? await gateLevelFiles(r, d, view, sim, synthConfig(r, { ...opts.physical, progressLabel: "run: synth" })) : undefined;
  const tb = tbFiles(d, view, gl);
  const pb = step("build");
  const tb0 = Date.now();
  let built: SimBuild;
  try {
    built = await buildSimCached(sim, tb.files, tb.tb, {
      waves: waves ? (viaVcd ? "vcd" : waves) : undefined,
      probes: !gl,
      defines: activityDefines(d.r, tb.tb),
      root: opts.cacheRoot,
      log: (m) => {
        pb.log(m);
        log(m);
      },
    });
  } catch (e) {
    pb.fail();
    throw e;
  }
  const buildSeconds = (Date.now() - tb0) / 1000;
  const what = gl ? `${view} gate-level netlist` : `${view} RTL`;
  pb.done(built.hit ? `reusing the ${sim} build of the ${what} in ${built.entry}` : `built the ${what} with ${sim} (${tb.files.length} files) in ${built.entry}`);
  log(`${sim} build: ${built.entry}${built.hit ? " (cached)" : ""}`);

  const pl = step("load", { unit: "host writes" });
  pl.log("building the host program: every weight and bias memory word, then U0");
  const prog = await hostProgramAsync(d.acc, model, U0, (done) => pl.set(done));
  pl.done(`${prog.writes} host writes, ${prog.lines.length - prog.writes} other host commands`);
  const stage: OutputStage = beginOutputDir(opts.out, meta, { force: opts.force });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-run-"));
  const unhook = onInterrupt(() => fs.rmSync(runDir, { recursive: true, force: true }));
  const json: RunJson = baseJson(r, opts, sim, view);
  json.netlist = opts.netlist ? { cells: gl!.find((f) => f.path.startsWith("netlist/cells_"))!.path.replace(/^netlist\/cells_|\.v$/g, ""), library: synthConfig(r, opts.physical).lib.name } : null;
  json.buildSeconds = buildSeconds;
  json.hostWrites = prog.writes;
  const written: string[] = [];
  let wavesPath: string | null = null;
  let wavesName: string | null = null;
  try {
    const cmd = path.join(runDir, "host.cmd");
    const outFile = path.join(runDir, "host.out");
    const traceFile = path.join(runDir, "trace.txt");
    await writeLines(cmd, prog.lines);
    const every = Math.max(1, Math.floor(prog.lines.length / 200));
    const plusargs = [`+cmd=${cmd}`, `+out=${outFile}`, `+trace=${traceFile}`, `+progress=${every}`];
    const ws = acc0(d).stream;
    let memLatency = 0;
    let memBandwidth = 0;
    if (ws) {
      memLatency = opts.memLatency ?? MEM_LATENCY_DEFAULT;
      memBandwidth = opts.memBandwidth ?? MEM_BANDWIDTH_DEFAULT;
      if (!(Number.isSafeInteger(memLatency) && memLatency >= 0)) throw new RunError(`--mem-latency must be a whole number of cycles >= 0 (got ${memLatency})`);
      const bw = bandwidthRatio(memBandwidth);
      // the off-chip image of the weights (docs/HOST.md "Off-chip weight port"), one beat per line
      const img = poolStreamImage(r, model, ws.beatBits);
      const image = path.join(runDir, "offchip.hex");
      const digits = ws.beatBits / 4;
      await writeLines(image, img.layout.beats.map((b) => b.toString(16).padStart(digits, "0")));
      plusargs.push(...offchipMemPlusargs(OFFCHIP_PLUS, image, { latency: memLatency, bwNum: bw.num, bwDen: bw.den * 1, arProb: 256, rProb: 256, seed: 1 }));
    } else if (opts.memLatency !== undefined || opts.memBandwidth !== undefined) {
      throw new RunError("--mem-latency and --mem-bandwidth set the off-chip memory model: this config keeps its weights on chip (hardware.weightsOnChip true); set hardware.weightsOnChip: false to stream them");
    }
    if (opts.maxCycles !== undefined) {
      if (!(Number.isSafeInteger(opts.maxCycles) && opts.maxCycles > 0)) throw new RunError(`--max-cycles must be a positive integer (got ${opts.maxCycles})`);
      plusargs.push(`+maxcycles=${opts.maxCycles}`);
    }
    if (waves) {
      wavesName = `waves.${waves}`;
      wavesPath = stage.file(wavesName, "waves");
      const dumpTo = viaVcd ? path.join(runDir, "waves.vcd") : wavesPath;
      plusargs.push(`+waves=${dumpTo}`, `+wavesfrom=${window.from}`);
      if (window.to !== null) plusargs.push(`+wavesto=${window.to}`);
    }
    const startIdx = prog.lines.findIndex((l) => l.startsWith("3 "));
    const ps = step("simulate", { total: prog.lines.length, unit: "host commands" });
    let note = "loading weights, biases and U0 through the host port";
    ps.set(0, note);
    const onLine = (l: string) => {
      const f = l.trim().split(/\s+/);
      if (f[0] === "CMDS") ps.set(Number(f[1]), Number(f[1]) > startIdx ? "reading U_L and the counters back" : note);
      else if (f[0] === "START") ps.set(startIdx, (note = "inference started"));
      else if (f[0] === "BLOCK") ps.set(startIdx, (note = `inference: block ${Number(f[2]) + 1}/${r.L}, ${f[1] === "a" ? "attention" : "MoE"} half (cycle ${f[3]})`));
      else if (f[0] === "DONE") ps.set(startIdx + 1, (note = "reading U_L and the counters back"));
    };
    const t0 = Date.now();
    const res = await runSimStreaming(built, plusargs, { cwd: runDir, fst: waves === "fst" && sim === "icarus", onLine });
    json.seconds = (Date.now() - t0) / 1000;
    fs.writeFileSync(path.join(runDir, "sim.log"), res.output);
    const lineVal = (k: string) => {
      const l = res.lines.find((x) => x.startsWith(k + " "));
      return l === undefined ? null : Number(l.slice(k.length + 1));
    };
    json.simulatedCycles = lineVal("SIMCYCLES");
    json.activity = parseActivity(res.output);
    json.startCycle = lineVal("START");
    json.doneCycle = lineVal("DONE");
    if (waves && wavesPath && wavesName) {
      const dumped = viaVcd ? path.join(runDir, "waves.vcd") : wavesPath;
      if (fs.existsSync(dumped)) {
        if (sim === "verilator" && window.to !== null) await cutVcd(dumped, window.to);
        if (viaVcd) await vcdToFst(dumped, wavesPath);
      }
      if (!fs.existsSync(wavesPath)) fs.writeFileSync(wavesPath, "");
      json.waves = { file: wavesName, format: waves, fromCycle: window.from, toCycle: window.to };
    }
    if (opts.keep) written.push(...keepDebug(stage, built, runDir, plusargs, { cmd, outFile, traceFile, wavesPath, viaVcd, sim }));

    if (!res.pass) {
      const why = `the ${sim} simulation did not finish (exit ${res.code}):\n${tail(res.output, 15)}`;
      if (opts.keep || waves) {
        json.status = "sim-failed";
        json.error = why;
        json.files = [...(wavesName ? [wavesName] : []), ...(opts.keep ? ["debug/"] : []), "run.json"];
        stage.write({ path: "run.json", kind: "report", content: JSON.stringify(json, null, 2) + "\n" });
        stage.commit();
        throw new RunError(`${why}\n(the ${[wavesName, opts.keep ? "debug/ folder (replay.sh)" : null].filter(Boolean).join(" and ")} and run.json are in ${opts.out})`);
      }
      throw new RunError(why);
    }
    ps.done(`simulated ${json.simulatedCycles} cycles`);
    const values = fs
      .readFileSync(outFile, "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((x) => parseInt(x, 16));
    const dec = decodeReads(d.acc, prog, values);
    const expectId = parseInt(r.hash.slice(-8), 16) >>> 0;
    if (dec.id !== expectId) throw new RunError(`the simulated design reports config id ${dec.id.toString(16)}, expected ${expectId.toString(16)}`);
    const trace = replayUmemTrace(d.acc, U0, fs.existsSync(traceFile) ? fs.readFileSync(traceFile, "utf8") : "");
    const startOf = (b: number, k: "A" | "M") => trace.events.find((e) => e.block === b && e.kind === k)?.cycle ?? null;
    Object.assign(json, {
      cycles: dec.cycles,
      synapticOps: dec.syn,
      synapticOpsByHalf: { attention: dec.synAttn, moe: dec.synMoe },
      spikes: dec.spikes,
      spikesByStage: { s0qkv: dec.spikes, o: dec.spikesO, s1: dec.spikesS1, h: dec.spikesH },
      lifSpikes: dec.spikes + dec.spikesO + dec.spikesS1 + dec.spikesH,
      routed: dec.routed,
      laneBound: dec.syn / json.lanes,
      utilization: dec.cycles ? dec.syn / (json.lanes * dec.cycles) : 0,
      engines: enginesJson(r, dec.cycles, { pool: dec.syn - dec.synRouter, router: dec.synRouter }, dec.classes),
      perBlock: Array.from({ length: r.L }, (_, b) => {
        const phaseCycles: Record<string, number> = {};
        for (const p of dec.perLayer.filter((x) => x.block === b)) phaseCycles[p.phase] = p.cycles;
        return {
          block: b,
          cycles: Object.values(phaseCycles).reduce((a, x) => a + x, 0),
          phaseCycles,
          startCycle: { attention: startOf(b, "A"), moe: startOf(b, "M") },
          synapticOps: null,
          spikesByStage: null,
          routed: null,
        };
      }),
    } satisfies Partial<RunJson>);

    if (ws && dec.stream) {
      const w = r.hw.weights;
      const sim = res.lines.find((l) => l.startsWith("OFFCHIP "))?.split(/\s+/).map(Number);
      if (!sim || sim[1] !== dec.stream.beats || sim[2] !== dec.stream.bursts)
        throw new RunError(`the off-chip counters of ctrl (${dec.stream.beats} beats, ${dec.stream.bursts} bursts) differ from the memory model's handshakes (${sim ? `${sim[1]} beats, ${sim[2]} bursts` : "no OFFCHIP line"})`);
      json.offchip = {
        bytesRead: (dec.stream.beats * w.beatBits) / 8,
        bursts: dec.stream.bursts,
        beats: dec.stream.beats,
        waitCycles: dec.stream.waitCycles,
        latency: memLatency,
        bandwidth: memBandwidth,
        weightBytes: (dec.stream.beats / w.beatsPerWord) * (w.wordBits / 8),
        overhead: w.overhead,
        modelWeightBytes: (w.imageWords * w.wordBits) / 8,
        beatBits: w.beatBits,
        beatsPerWord: w.beatsPerWord,
        expected: null,
      };
    }

    let failedCheck: string | null = null;
    if (opts.check) {
      const pc = step("check");
      pc.log(`running the golden model on ${goldenWeights} and comparing U after every half of every block, the output and the counters`);
      const g = runGolden(r, goldenModel, U0);
      const report = checkRun(
        r,
        g,
        {
          output: dec.out,
          trace,
          counters: { synapticOps: dec.syn, spikes: dec.spikes, spikesO: dec.spikesO, spikesS1: dec.spikesS1, spikesH: dec.spikesH, routed: dec.routed },
        },
        path.resolve(goldenWeights),
      );
      json.check = report;
      pc.done(report.match ? "the RTL matches the golden model" : "mismatch found");
      if (!report.match) {
        json.status = "check-failed";
        failedCheck = describeCheck(report);
      } else log(describeCheck(report));
      if (ws && json.offchip) {
        // the exact traffic of the golden routing: every used layer fetched once, an expert nobody was routed to never
        const routed = g.stats.perLayer.map((b) => b.routedPerExpert.map((n) => n > 0));
        const img = poolStreamImage(r, goldenModel, ws.beatBits);
        const exp = weightStreamTraffic(ws, poolStreamOrder(img, routed).map((u) => u.desc));
        json.offchip.expected = exp;
        if (exp.beats !== json.offchip.beats || exp.bursts !== json.offchip.bursts) {
          json.status = "check-failed";
          failedCheck = [failedCheck, `off-chip traffic: the RTL read ${json.offchip.beats} beats in ${json.offchip.bursts} bursts, the golden routing needs exactly ${exp.beats} beats in ${exp.bursts} bursts`].filter(Boolean).join("\n");
        }
      }
    }

    stage.write({ path: "output.npy", kind: "data", content: outputNpy(r, dec.out) });
    json.files = ["output.npy", "run.json", ...(wavesName ? [wavesName] : []), ...(opts.keep ? ["debug/"] : [])];
    stage.write({ path: "run.json", kind: "report", content: JSON.stringify(json, null, 2) + "\n" });
    stage.commit();
    if (failedCheck) throw new RunError(`${failedCheck}\n(results, run.json with the whole comparison under "check"${opts.keep ? ", debug/" : ""} are in ${opts.out})`);
    return { output: dec.out, json, files: json.files };
  } catch (e) {
    stage.abort();
    throw e;
  } finally {
    unhook();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

/** Write lines to a file in chunks (a host program has millions), yielding between chunks. */
async function writeLines(file: string, lines: string[]): Promise<void> {
  const fd = fs.openSync(file, "w");
  try {
    for (let i = 0; i < lines.length; i += 65536) {
      fs.writeSync(fd, lines.slice(i, i + 65536).join("\n") + "\n");
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Copy what a user needs to replay and rebuild the simulation into out/debug/. */
function keepDebug(
  stage: OutputStage,
  built: SimBuild,
  runDir: string,
  plusargs: string[],
  p: { cmd: string; outFile: string; traceFile: string; wavesPath: string | null; viaVcd: boolean; sim: Sim },
): string[] {
  const files: string[] = [];
  const put = (rel: string, src: string, kind = "debug", exe = false) => {
    if (!fs.existsSync(src)) return;
    stage.copy(`debug/${rel}`, kind, src, exe);
    files.push(`debug/${rel}`);
  };
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(dir, e.name), `${rel}${e.name}/`);
      else put(`${rel}${e.name}`, path.join(dir, e.name));
    }
  };
  walk(path.join(built.entry, "src"), "src/");
  put("build.sh", path.join(built.entry, "build.sh"), "debug", true);
  put("build.log", path.join(built.entry, "build.log"));
  put(built.binName, built.bin, "debug", true);
  put("host.cmd", p.cmd);
  put("host.out", p.outFile);
  put("trace.txt", p.traceFile);
  put("sim.log", path.join(runDir, "sim.log"));
  // the replay: same binary, same host program, same plusargs (paths relative to debug/)
  const rel = plusargs
    .filter((a) => !a.startsWith("+waves=") && !a.startsWith("+progress="))
    .map((a) => a.replace(p.cmd, "host.cmd").replace(p.outFile, "host.out.replay").replace(p.traceFile, "trace.replay.txt"));
  if (p.wavesPath) rel.push(`+waves=waves.replay.${built.waves ?? "vcd"}`);
  const { cmd, args } = simCommand(built, built.sim === "verilator" ? `./${built.binName}` : built.binName, rel, { fst: p.sim === "icarus" && !!p.wavesPath && p.wavesPath.endsWith(".fst") });
  const script = [
    "#!/bin/sh",
    `# Replays the simulation of this st3d run by hand (${built.sim}): the same binary, the same host`,
    "# program (host.cmd), the same plusargs.  It writes host.out.replay (compare: cmp host.out host.out.replay)",
    `# and trace.replay.txt${p.wavesPath ? ", and the waveform into waves.replay.*" : ""}.  Extra plusargs are passed on, e.g. +maxcycles=N.`,
    "# Rebuild the binary from src/ with ./build.sh (it writes obj_dir/ or sim.vvp here).",
    "set -e",
    'cd "$(dirname "$0")"',
    `${[cmd, ...args].map(shq).join(" ")} "$@"`,
    "",
  ].join("\n");
  stage.write({ path: "debug/replay.sh", kind: "debug", content: script, executable: true });
  files.push("debug/replay.sh");
  stage.write({
    path: "debug/README.txt",
    kind: "debug",
    content: [
      "st3d run --keep: everything needed to look into this simulation by hand.",
      "  src/        the Verilog compiled (design RTL, behavioral SRAM models, the host testbench)",
      "  build.sh    the exact build command;  build.log its output",
      `  ${built.binName.padEnd(10)}  the simulation that ran`,
      "  host.cmd    the host program: one '<op> <addr> <data>' per line (docs/HOST.md)",
      "  host.out    what the reads returned;  sim.log the simulator's output",
      "  trace.txt   block starts (A/M <block> <cycle>) and every umem write (W <cycle> <addr> <data>)",
      "  replay.sh   runs the same simulation again",
      "",
    ].join("\n"),
  });
  files.push("debug/README.txt");
  return files;
}
