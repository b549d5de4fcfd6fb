/**
 * Benchmark (not a test, issue #17): ONE block of the ImageNet-scale config
 * (configs/imagenet.yaml: T 4, N 196, D 768, H 12, E 4, k 2, F 3072, weights off chip) end to end
 * on Verilator with the testbench's off-chip memory model, checked against the golden model
 * (`st3d run --check`: U after each half of the block, the output, the off-chip beats and bursts
 * against the golden routing's exact traffic).  Prints cycles, off-chip bytes read against the
 * model's weight bytes and wall times; writes bench-imagenet.json and BENCH-imagenet.md.
 *
 *   npx tsx scripts/bench-imagenet.ts                 # the real thing (long: see docs/BENCH.md)
 *   npx tsx scripts/bench-imagenet.ts --scale 4       # a stand-in: N, D, F divided by 4 (minutes),
 *                                                     # with the full size's cycle model and estimated time
 * Options: --config FILE (configs/imagenet.yaml)  --blocks n (1)  --scale s (1: N, D and F / s, D a
 *          multiple of heads)  --density p (0.1)  --seed n (1)  --sim verilator|icarus (verilator)
 *          --mem-latency c (100)  --mem-bandwidth B (16 bytes/cycle)  --no-estimate  --out DIR
 *          (build/bench-imagenet)
 * Exit 1 on any mismatch with the golden model, traffic that differs from the golden routing's,
 * or counters that contradict the cycle model (a lower bound off chip; the pool's work class exact).
 */
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { loadConfig, parseConfig } from "../generator/config/load.ts";
import { resolve, type Resolved } from "../generator/config/resolve.ts";
import type { UserConfig } from "../generator/config/schema.ts";
import { runGolden } from "../generator/model/golden.ts";
import { randomModel, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { st3dRun } from "../generator/run/run.ts";
import { dataflowCycles, dataflowWork } from "../generator/blocks/dataflow/cycles.ts";
import { dataflowParams } from "../generator/blocks/dataflow/dataflow.ts";
import { hostProgram } from "../generator/run/host.ts";
import { buildAccelerator } from "../generator/top/accelerator.ts";
import { REPO_ROOT } from "../generator/core/paths.ts";
import { endLoad, machineInfo } from "./benchMachine.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const known = ["--config", "--blocks", "--scale", "--density", "--seed", "--sim", "--mem-latency", "--mem-bandwidth", "--out"];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--no-estimate") continue;
  if (!known.includes(args[i]) || args[i + 1] === undefined) {
    console.error(`bench-imagenet: unknown option or missing value: ${args[i]} (options: ${[...known, "--no-estimate"].join(" ")})`);
    process.exit(2);
  }
  i++;
}
const num = (k: string, d: string, ok: (x: number) => boolean, what: string) => {
  const x = Number(opt(k, d));
  if (!ok(x)) {
    console.error(`bench-imagenet: ${k} must be ${what} (got ${opt(k, d)})`);
    process.exit(2);
  }
  return x;
};
const CONFIG = path.resolve(opt("--config", path.join(REPO_ROOT, "configs", "imagenet.yaml")));
const blocks = num("--blocks", "1", (x) => Number.isInteger(x) && x >= 1, "a whole number >= 1");
const scale = num("--scale", "1", (x) => x >= 1, "a number >= 1");
const density = num("--density", "0.1", (x) => x > 0 && x <= 1, "in (0, 1]");
const seed = num("--seed", "1", Number.isInteger, "a whole number");
const memLatency = num("--mem-latency", "100", (x) => Number.isInteger(x) && x >= 0, "a whole number of cycles >= 0");
const memBandwidth = num("--mem-bandwidth", "16", (x) => x > 0, "a number of bytes per cycle > 0");
const sim = opt("--sim", "verilator");
if (sim !== "verilator" && sim !== "icarus") {
  console.error(`bench-imagenet: --sim must be verilator or icarus (got ${sim})`);
  process.exit(2);
}
const estimate = !args.includes("--no-estimate") && scale > 1;
const OUT = path.resolve(opt("--out", path.join(REPO_ROOT, "build", "bench-imagenet")));
fs.mkdirSync(OUT, { recursive: true });
const failures: string[] = [];
const log = (m: string) => console.error(`[bench-imagenet] ${m}`);
const secs = (t0: number) => (performance.now() - t0) / 1000;

const machine = machineInfo();

// ------------------------------------------------------------------------------ the config
const base = loadConfig(CONFIG);
if (base.hardware.weightsOnChip !== false) log(`note: ${path.relative(process.cwd(), CONFIG)} keeps its weights on chip; the off-chip figures will be null`);
/** The benched config: `blocks` blocks, N, D, F divided by `s` (D rounded down to a multiple of heads). */
function benchConfig(s: number): UserConfig {
  const m = base.model;
  const dim = s === 1 ? m.dim : Math.max(m.heads, Math.floor(m.dim / s / m.heads) * m.heads);
  const model = { ...m, blocks, ...(s === 1 ? {} : { tokens: Math.max(1, Math.round(m.tokens / s)), dim, expertHidden: Math.max(1, Math.round(m.expertHidden / s)) }) };
  const name = `${base.name}_b${blocks}${s === 1 ? "" : `_s${String(s).replace(".", "p")}`}`.slice(0, 32).replace(/_+$/, "");
  return parseConfig({ ...base, name, model }, `${path.relative(process.cwd(), CONFIG)} (blocks ${blocks}${s === 1 ? "" : `, scale ${s}`})`);
}
const user = benchConfig(scale);
const r = resolve(user);
const dir = OUT;
fs.writeFileSync(path.join(dir, "config.yaml"), `# ${path.relative(REPO_ROOT, CONFIG)} with blocks ${blocks}${scale === 1 ? "" : `, tokens, dim and expertHidden / ${scale}`} (scripts/bench-imagenet.ts)\n` + YAML.stringify(user));
log(`${machine.cpu} x${machine.cores}, load ${machine.loadAverageStart.join(" ")}; ${r.name}: T ${r.T}, N ${r.N}, D ${r.D}, H ${r.H}, L ${r.L}, E ${r.E}, k ${r.k}, F ${r.F}; results in ${path.relative(process.cwd(), OUT)}`);

// ------------------------------------------------------------------------------ model, golden, cycle model
interface Prediction {
  config: { T: number; N: number; D: number; H: number; L: number; E: number; k: number; F: number };
  randomModelSeconds: number;
  goldenSeconds: number;
  cycleModelSeconds: number;
  /** the exact on-chip cycle model (generator/blocks/dataflow/cycles.ts) + ctrl's start and done cycles: a lower bound off chip */
  modelCycles: number;
  perBlock: Record<string, number>[];
  synapticOps: number;
  /** bytes of the model's pool weights, L x (4 D^2 + 2 E D F) x weightBits / 8 (every layer, all experts) */
  modelWeightBytes: number;
  /** the same laid out in words of P lanes (tilesD x P >= D, tilesF x P >= F): run.json offchip.modelWeightBytes */
  imageWeightBytes: number;
  /** the words of the layers the golden routing uses (run.json offchip.weightBytes) */
  usedWeightBytes: number;
  /** usedWeightBytes x (1 + padding) / bandwidth: cycles the stream alone needs (another lower bound) */
  streamCycles: number | null;
  hostWrites: number;
}

function predict(rr: Resolved, withHost: boolean): Prediction & { model: ReturnType<typeof randomModel>; out: number[][][] } {
  let t0 = performance.now();
  const rm = randomModel(rr, seed, density);
  const randomModelSeconds = secs(t0);
  t0 = performance.now();
  const g = runGolden(rr, rm.model, rm.input);
  const goldenSeconds = secs(t0);
  t0 = performance.now();
  const m = dataflowCycles(dataflowParams(rr), dataflowWork(rr, rm.model, g.trace));
  const cycleModelSeconds = secs(t0);
  const { D, F } = rr;
  const { tilesD, tilesF } = rr.geo;
  const w = rr.hw.weights;
  const routed = g.stats.perLayer.map((b) => b.routedPerExpert.filter((x) => x > 0).length);
  const usedWords = routed.reduce((a, n) => a + 4 * tilesD * D + n * (tilesF * D + tilesD * F), 0);
  const usedWeightBytes = (usedWords * w.wordBits) / 8;
  const modelWeightBytes = (rr.L * (4 * D * D + rr.E * 2 * D * F) * rr.weightBits) / 8;
  const imageWeightBytes = (w.imageWords * w.wordBits) / 8;
  const streamCycles = w.onChip ? null : Math.ceil((usedWords * w.beatsPerWord * w.beatBits) / 8 / memBandwidth);
  const hostWrites = withHost ? hostProgram(buildAccelerator(rr), rm.model, rm.input).writes : 0;
  return {
    config: { T: rr.T, N: rr.N, D, H: rr.H, L: rr.L, E: rr.E, k: rr.k, F },
    randomModelSeconds,
    goldenSeconds,
    cycleModelSeconds,
    modelCycles: m.total + 2,
    perBlock: m.perBlock as unknown as Record<string, number>[],
    synapticOps: g.stats.syn,
    modelWeightBytes,
    imageWeightBytes,
    usedWeightBytes,
    streamCycles,
    hostWrites,
    model: rm,
    out: g.out,
  };
}

log(`random model (seed ${seed}, density ${density}), golden model and cycle model ...`);
const pred = predict(r, false);
writeModelDir(r, pred.model.model, path.join(dir, "weights"));
writeInput(r, pred.model.input, path.join(dir, "input.npy"));
log(`model ${pred.modelCycles.toLocaleString("en-US")} cycles at least (cycle model), golden ${pred.goldenSeconds.toFixed(1)} s`);

// ------------------------------------------------------------------------------ the run
const runOut = path.join(dir, `out-${sim}`);
log(`st3d run --sim ${sim} --check --mem-latency ${memLatency} --mem-bandwidth ${memBandwidth} ...`);
const t0 = performance.now();
const res = await st3dRun(r, {
  weights: path.join(dir, "weights"),
  input: path.join(dir, "input.npy"),
  out: runOut,
  force: true,
  sim,
  check: true,
  ...(r.hw.weights.onChip ? {} : { memLatency, memBandwidth }),
  maxCycles: Math.max(100_000_000, 4 * pred.modelCycles),
  log: (x) => log(`  ${x}`),
});
const wallSeconds = secs(t0);
const j = res.json;
const a = res.output.flat(2);
const b = pred.out.flat(2);
const mismatches = a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0) + Math.abs(a.length - b.length);
if (mismatches) failures.push(`${mismatches} output values differ from the golden model`);
if (j.check?.match !== true) failures.push(`st3d run --check: ${JSON.stringify(j.check?.first ?? j.error)}`);
const oc = j.offchip;
if (oc) {
  if (!oc.expected || oc.beats !== oc.expected.beats || oc.bursts !== oc.expected.bursts) failures.push(`off-chip traffic ${oc.beats} beats / ${oc.bursts} bursts, the golden routing's ${JSON.stringify(oc.expected)}`);
  if (oc.weightBytes !== pred.usedWeightBytes) failures.push(`off-chip weight bytes ${oc.weightBytes}, the golden routing's ${pred.usedWeightBytes}`);
  if (oc.modelWeightBytes !== pred.imageWeightBytes) failures.push(`run.json modelWeightBytes ${oc.modelWeightBytes}, expected the image's ${pred.imageWeightBytes}`);
}
if (j.cycles === null || j.cycles < pred.modelCycles) failures.push(`${j.cycles} cycles, below the cycle model's ${pred.modelCycles}`);
if (r.hw.weights.onChip && j.cycles !== pred.modelCycles) failures.push(`weights on chip: ${j.cycles} cycles, the exact cycle model ${pred.modelCycles}`);
const simCycles = j.simulatedCycles ?? 0;
const rate = j.seconds > 0 ? simCycles / j.seconds : 0;
const run = {
  sim,
  status: j.status,
  mismatches,
  checkMatch: j.check?.match ?? false,
  cycles: j.cycles,
  modelCycles: pred.modelCycles,
  streamCycles: pred.streamCycles,
  simulatedCycles: simCycles,
  hostWrites: j.hostWrites,
  synapticOps: j.synapticOps,
  utilization: j.utilization,
  offchip: oc,
  bytesReadOverModelWeightBytes: oc ? oc.bytesRead / pred.modelWeightBytes : null,
  waitW: j.engines?.pool.cycles.waitW ?? null,
  perBlock: j.perBlock.map((x) => ({ block: x.block, cycles: x.cycles, phaseCycles: x.phaseCycles })),
  buildSeconds: j.buildSeconds,
  simSeconds: j.seconds,
  simCyclesPerSecond: rate,
  wallSeconds,
};

// ------------------------------------------------------------------------------ the full size, estimated
let full: (Omit<Prediction, "model"> & { hostCyclesEstimate: number; simSecondsEstimate: number; wallSecondsEstimate: number; basis: string }) | null = null;
if (estimate) {
  const rf = resolve(benchConfig(1));
  log(`the full size (${rf.name}): random model, golden model, cycle model and host program for the estimate ...`);
  const { model: _m, out: _o, ...p } = predict(rf, true);
  // host cycles (loading through the host port, reading back) per host write, as measured in this run
  const hostCycles = simCycles - (j.doneCycle !== null && j.startCycle !== null ? j.doneCycle - j.startCycle : (j.cycles ?? 0));
  const hostCyclesEstimate = Math.round((hostCycles / Math.max(1, j.hostWrites ?? 1)) * p.hostWrites);
  const cyc = Math.max(p.modelCycles, p.streamCycles ?? 0) + hostCyclesEstimate;
  const simSecondsEstimate = cyc / rate;
  // the rest of the wall time: the stand-in's (build, host program, image), and the full size's golden model twice (bench + --check)
  const other = wallSeconds - j.seconds;
  const wallSecondsEstimate = simSecondsEstimate + other + 2 * p.goldenSeconds + p.randomModelSeconds + p.cycleModelSeconds;
  full = {
    ...p,
    hostCyclesEstimate,
    simSecondsEstimate,
    wallSecondsEstimate,
    basis: `max(cycle model, stream cycles) + host cycles per host write of this run x the full host writes, at this run's ${Math.round(rate)} simulated cycles/s; plus this run's other wall time (build, host program) and the full size's golden model twice`,
  };
}

// ------------------------------------------------------------------------------ report
endLoad(machine);
const json = {
  command: `npx tsx scripts/bench-imagenet.ts ${args.join(" ")}`.trim(),
  date: new Date().toISOString(),
  machine,
  config: { file: path.relative(REPO_ROOT, CONFIG), name: r.name, blocks, scale, hash: r.hash, T: r.T, N: r.N, D: r.D, H: r.H, L: r.L, E: r.E, k: r.k, F: r.F },
  model: { seed, density, randomModelSeconds: pred.randomModelSeconds, goldenSeconds: pred.goldenSeconds, cycleModelSeconds: pred.cycleModelSeconds, modelWeightBytes: pred.modelWeightBytes, imageWeightBytes: pred.imageWeightBytes, usedWeightBytes: pred.usedWeightBytes },
  memory: { latency: memLatency, bandwidthBytesPerCycle: memBandwidth },
  run,
  fullSizeEstimate: full,
  failures,
};
fs.writeFileSync(path.join(OUT, "bench-imagenet.json"), JSON.stringify(json, null, 2) + "\n");

const n = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? "-" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const md: string[] = [];
md.push(`# bench-imagenet: ${r.name}`, "");
md.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, ${machine.os}, Node ${machine.node}, ${sim === "verilator" ? machine.verilator : machine.icarus}; load average ${machine.loadAverageStart.join(" / ")} at the start, ${machine.loadAverageEnd.join(" / ")} at the end.`, "");
md.push(`Config: ${json.config.file}, blocks ${blocks}${scale === 1 ? "" : `, N, D, F / ${scale}`}: T ${r.T}, N ${r.N}, D ${r.D}, H ${r.H}, L ${r.L}, E ${r.E}, k ${r.k}, F ${r.F}; random model seed ${seed}, density ${density}; off-chip memory latency ${memLatency} cycles, ${memBandwidth} bytes/cycle.`, "");
md.push("| | value |", "|---|---|");
md.push(`| result | ${failures.length ? `**FAILED**: ${failures.join("; ")}` : "output and U after each half equal the golden model; off-chip beats and bursts equal the golden routing's"} |`);
md.push(`| cycles (start to done) | ${n(j.cycles)} |`);
md.push(`| cycle model (exact on chip; a lower bound off chip) | ${n(pred.modelCycles)} |`);
if (pred.streamCycles !== null) md.push(`| stream alone (bytes read / bandwidth) | ${n(pred.streamCycles)} |`);
md.push(`| pool waited for off-chip words (WWAIT) | ${n(run.waitW)} |`);
if (oc) {
  md.push(`| off-chip bytes read | ${n(oc.bytesRead)} (${n(oc.beats)} beats of ${oc.beatBits} bits, ${n(oc.bursts)} bursts) |`);
  md.push(`| weight bytes in them (words of P lanes of the used layers; beat padding ${(100 * oc.overhead).toFixed(2)} %) | ${n(oc.weightBytes)} |`);
  md.push(`| model weight bytes, L x (4 D² + 2 E D F) x weightBits / 8 | ${n(pred.modelWeightBytes)} (in words of P lanes: ${n(pred.imageWeightBytes)}) |`);
  md.push(`| bytes read / model weight bytes | ${run.bytesReadOverModelWeightBytes!.toFixed(4)} |`);
}
md.push(`| synaptic ops, utilization | ${n(j.synapticOps)}, ${j.utilization === null ? "-" : `${(100 * j.utilization).toFixed(1)} %`} |`);
md.push(`| simulated cycles (host loading + inference + readback) | ${n(simCycles)} |`);
md.push(`| ${sim} build | ${n(j.buildSeconds, 1)} s |`);
md.push(`| simulation | ${n(j.seconds, 1)} s (${n(rate)} cycles/s) |`);
md.push(`| wall (st3d run: build, host program, simulation, check) | ${n(wallSeconds, 1)} s |`);
if (full) {
  const c = full.config;
  md.push("", `Full size (T ${c.T}, N ${c.N}, D ${c.D}, H ${c.H}, L ${c.L}, E ${c.E}, k ${c.k}, F ${c.F}), estimated from this run (same seed and density; ${full.basis}):`, "");
  md.push("| | value |", "|---|---|");
  md.push(`| cycle model | ${n(full.modelCycles)} |`);
  md.push(`| stream alone | ${n(full.streamCycles)} |`);
  md.push(`| host writes, estimated host cycles | ${n(full.hostWrites)}, ${n(full.hostCyclesEstimate)} |`);
  md.push(`| model weight bytes | ${n(full.modelWeightBytes)} (in words of P lanes: ${n(full.imageWeightBytes)}; of the used layers: ${n(full.usedWeightBytes)}) |`);
  md.push(`| golden model | ${n(full.goldenSeconds, 1)} s |`);
  md.push(`| simulation, estimated | ${n(full.simSecondsEstimate / 60, 0)} min |`);
  md.push(`| wall, estimated | ${n(full.wallSecondsEstimate / 60, 0)} min |`);
}
fs.writeFileSync(path.join(OUT, "BENCH-imagenet.md"), md.join("\n") + "\n");
console.log(md.join("\n"));
log(`results: ${path.relative(process.cwd(), path.join(OUT, "bench-imagenet.json"))}, ${path.relative(process.cwd(), path.join(OUT, "BENCH-imagenet.md"))}`);
if (failures.length) process.exitCode = 1;
