/**
 * Benchmarks (not tests): end-to-end runs of the tiny and cifar presets at several spike
 * densities, a router skewed to one expert, Verilator against Icarus, and generation times.
 * Every run is checked value for value against the golden model, and its hardware counters
 * against the exact cycle model (generator/blocks/dataflow/cycles.ts); a mismatch makes the
 * script exit non-zero.  Results: build/bench/bench.json (everything) and build/bench/BENCH.md
 * (the tables of docs/BENCH.md).  docs/BENCH.md explains the numbers.
 *
 *   npm run bench                                   # all of it (about an hour on a shared 2-core machine)
 *   npm run bench -- --presets tiny --densities 0.2 # a quick look
 * Options: --presets a,b  --densities x,y  --skew-density d  --icarus-minutes m (0: no cifar Icarus run)
 *          --gen-runs n  --out DIR
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../generator/config/load.ts";
import { resolve, type Resolved } from "../generator/config/resolve.ts";
import { buildDesign } from "../generator/design.ts";
import { runGolden, type Model } from "../generator/model/golden.ts";
import { randomModel, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { buildRunSim, st3dRun } from "../generator/run/run.ts";
import { simCommand } from "../generator/run/sim.ts";
import { hostProgram } from "../generator/run/host.ts";
import { dataflowCycles, dataflowWork } from "../generator/blocks/dataflow/cycles.ts";
import { DATAFLOW_PHASES, dataflowParams } from "../generator/blocks/dataflow/dataflow.ts";
import { PERF_CLASSES } from "../generator/blocks/linearEngine/linearEngine.ts";
import { progress } from "../generator/progress/progress.ts";
import { REPO_ROOT } from "../generator/core/paths.ts";
import { endLoad, machineInfo } from "./benchMachine.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const presets = opt("--presets", "tiny,cifar").split(",");
const densities = opt("--densities", "0.05,0.1,0.2,0.4").split(",").map(Number);
const skewDensity = Number(opt("--skew-density", "0.1"));
const icarusMinutes = Number(opt("--icarus-minutes", "15"));
const genRuns = Number(opt("--gen-runs", "5"));
const OUT = path.resolve(opt("--out", path.join(REPO_ROOT, "build", "bench")));
fs.mkdirSync(OUT, { recursive: true });
const ST3D = path.join(REPO_ROOT, "bin", "st3d.js");
const failures: string[] = [];
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

// ------------------------------------------------------------------------------ machine
const machine = machineInfo();
console.error(`[bench] ${machine.cpu} x${machine.cores}, load ${machine.loadAverageStart.join(" ")}; results in ${path.relative(process.cwd(), OUT)}`);

// ------------------------------------------------------------------------------ generation time
/** Wall and CPU seconds of a child process (CPU from /usr/bin/time when it is there). */
function timed(cmd: string, a: string[]): { wall: number; cpu: number | null } {
  const hasTime = fs.existsSync("/usr/bin/time");
  const t0 = performance.now();
  const res = hasTime
    ? spawnSync("/usr/bin/time", ["-f", "ST3D_TIME %U %S", cmd, ...a], { encoding: "utf8" })
    : spawnSync(cmd, a, { encoding: "utf8" });
  const wall = (performance.now() - t0) / 1000;
  if (res.status !== 0) throw new Error(`${cmd} ${a.join(" ")} failed:\n${res.stderr}`);
  const m = /ST3D_TIME ([\d.]+) ([\d.]+)/.exec(res.stderr ?? "");
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : null };
}

const generation: Record<string, { firstWall: number; wall: number; cpu: number | null; runs: number }> = {};
const startup = (() => {
  timed("node", [ST3D, "--version"]); // the bundle exists after this
  const t = [...Array(genRuns)].map(() => timed("node", [ST3D, "--version"]));
  return { wall: median(t.map((x) => x.wall)), cpu: t[0].cpu === null ? null : median(t.map((x) => x.cpu!)) };
})();
{
  const p = progress("generation times", { total: presets.length * (genRuns + 1), unit: "runs" });
  for (const preset of presets) {
    const dir = path.join(OUT, "gen", preset);
    const first = timed("node", [ST3D, "generate", preset, "-o", dir, "--force"]);
    p.tick(1, preset);
    const t = [...Array(genRuns)].map(() => {
      const x = timed("node", [ST3D, "generate", preset, "-o", dir, "--force"]);
      p.tick(1, preset);
      return x;
    });
    generation[preset] = { firstWall: first.wall, wall: median(t.map((x) => x.wall)), cpu: t[0].cpu === null ? null : median(t.map((x) => x.cpu!)), runs: genRuns };
  }
  p.done(Object.entries(generation).map(([k, v]) => `${k} ${v.wall.toFixed(2)} s`).join(", "));
}

// ------------------------------------------------------------------------------ runs
interface RunResult {
  preset: string;
  density: number;
  skew: boolean;
  sim: "verilator" | "icarus";
  mismatches: number;
  cycles: number;
  modelCycles: number;
  modelExact: boolean;
  synapticOps: number;
  lanes: number;
  laneBound: number;
  utilization: number;
  engines: unknown;
  perLayer: { block: number; phase: string; cycles: number }[];
  spikeDensity: Record<string, number>;
  attentionExposed: number;
  wallSeconds: number;
  hostWrites: number;
}

function makeModel(r: Resolved, density: number, skew: boolean): { model: Model; input: number[][][] } {
  const m = randomModel(r, 1, density);
  // a router that sends every token to expert 0 (its other k - 1 choices go wherever the scores say)
  if (skew) for (const b of m.model.blocks) b.router.bias[0] = 2 ** (r.biasBits - 1) - 1;
  return m;
}

async function benchRun(preset: string, density: number, skew: boolean, sim: "verilator" | "icarus"): Promise<RunResult> {
  const r = resolve(loadConfig(preset));
  const tag = `${preset}/d${density}${skew ? "-skew" : ""}`;
  const dir = path.join(OUT, preset, `d${density}${skew ? "-skew" : ""}`);
  fs.mkdirSync(dir, { recursive: true });
  const { model, input } = makeModel(r, density, skew);
  writeModelDir(r, model, path.join(dir, "weights"));
  writeInput(r, input, path.join(dir, "input.npy"));
  const g = runGolden(r, model, input);
  const m = dataflowCycles(dataflowParams(r), dataflowWork(r, model, g.trace));
  console.error(`[bench] ${tag} on ${sim}: model ${m.total} cycles ...`);
  const res = await st3dRun(r, { weights: path.join(dir, "weights"), input: path.join(dir, "input.npy"), out: path.join(dir, `out-${sim}`), sim, log: (x) => console.error(`[bench]   ${x}`) });
  const a = res.output.flat(2);
  const b = g.out.flat(2);
  const mismatches = a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);
  const j = res.json as unknown as Record<string, unknown> & { cycles: number; perBlock: { block: number; phaseCycles: Record<string, number> }[]; engines: { pool: { cycles: Record<string, number> }; router: { cycles: Record<string, number> } } };
  const perLayer = j.perBlock.flatMap((b) => Object.entries(b.phaseCycles).map(([phase, cycles]) => ({ block: b.block, phase, cycles })));
  // the hardware counters against the exact model: ctrl counts 2 cycles more (its start and done cycles)
  let exact = j.cycles === m.total + 2;
  for (const x of perLayer) if (x.cycles !== m.perBlock[x.block][x.phase as (typeof DATAFLOW_PHASES)[number]]) exact = false;
  for (const c of PERF_CLASSES) if (j.engines.pool.cycles[c] !== m.pool[c] || j.engines.router.cycles[c] !== m.router[c]) exact = false;
  if (mismatches) failures.push(`${tag} ${sim}: ${mismatches} output mismatches`);
  if (!exact) failures.push(`${tag} ${sim}: hardware counters differ from the cycle model`);
  const st = g.stats.perLayer;
  const dens = (s: "s0" | "o" | "s1" | "h") => st.reduce((x, y) => x + y.spikes[s], 0) / Math.max(1, st.reduce((x, y) => x + y.neurons[s], 0));
  return {
    preset,
    density,
    skew,
    sim,
    mismatches,
    cycles: j.cycles,
    modelCycles: m.total + 2,
    modelExact: exact,
    synapticOps: j.synapticOps as number,
    lanes: j.lanes as number,
    laneBound: j.laneBound as number,
    utilization: j.utilization as number,
    engines: j.engines,
    perLayer,
    spikeDensity: { s0: dens("s0"), o: dens("o"), s1: dens("s1"), h: dens("h") },
    attentionExposed: m.attention.exposed,
    wallSeconds: j.seconds as number,
    hostWrites: j.hostWrites as number,
  };
}

const runs: RunResult[] = [];
for (const preset of presets) {
  for (const d of densities) runs.push(await benchRun(preset, d, false, "verilator"));
  runs.push(await benchRun(preset, skewDensity, true, "verilator"));
}

// ------------------------------------------------------------------------------ Verilator vs Icarus
/**
 * The simulator binaries alone on the same run's host program: best wall seconds of `n` runs
 * each, Verilator and Icarus interleaved (so a load spike on the shared machine hits both).
 */
async function simSeconds(preset: string, density: number, n: number): Promise<{ verilator: number; icarus: number }> {
  const r = resolve(loadConfig(preset));
  const d = buildDesign(r);
  const { model, input } = makeModel(r, density, false);
  const dir = path.join(OUT, preset, `d${density}`, "sim-speed");
  fs.mkdirSync(dir, { recursive: true });
  const cmd = path.join(dir, "host.cmd");
  fs.writeFileSync(cmd, hostProgram(d.acc, model, input).lines.join("\n") + "\n");
  const plus = [`+cmd=${cmd}`, `+out=${path.join(dir, "host.out")}`];
  const built = { verilator: await buildRunSim(d, "verilator", "2d"), icarus: await buildRunSim(d, "icarus", "2d") };
  const best = { verilator: Infinity, icarus: Infinity };
  for (let i = 0; i < n; i++)
    for (const sim of ["verilator", "icarus"] as const) {
      const c = simCommand(built[sim], built[sim].bin, plus);
      const t0 = performance.now();
      const res = spawnSync(c.cmd, c.args, { encoding: "utf8", cwd: dir });
      best[sim] = Math.min(best[sim], (performance.now() - t0) / 1000);
      if (res.status !== 0 || !/PASS/.test(res.stdout)) throw new Error(`${sim} run of ${preset} failed:\n${res.stdout}\n${res.stderr}`);
    }
  return best;
}

const speed: Record<string, unknown> = {};
if (presets.includes("tiny")) {
  const d = densities.includes(0.2) ? 0.2 : densities[0];
  const ic = await benchRun("tiny", d, false, "icarus");
  runs.push(ic);
  const t = await simSeconds("tiny", d, 15);
  const [v, i] = [t.verilator, t.icarus];
  speed.tiny = { density: d, runs: 15, verilatorSeconds: v, icarusSeconds: i, ratio: i / v, stRunWall: { verilator: runs.find((x) => x.preset === "tiny" && x.density === d && x.sim === "verilator" && !x.skew)!.wallSeconds, icarus: ic.wallSeconds } };
}
if (presets.includes("cifar") && icarusMinutes > 0) {
  const d = densities.includes(0.1) ? 0.1 : densities[0];
  const dir = path.join(OUT, "cifar", `d${d}`);
  console.error(`[bench] cifar d${d} on icarus (at most ${icarusMinutes} min) ...`);
  const t0 = performance.now();
  const res = spawnSync("nice", ["node", ST3D, "run", "--config", "cifar", "--weights", path.join(dir, "weights"), "--input", path.join(dir, "input.npy"), "--out", path.join(dir, "out-icarus"), "--sim", "icarus"], {
    encoding: "utf8",
    timeout: icarusMinutes * 60 * 1000,
    killSignal: "SIGKILL",
  });
  const wall = (performance.now() - t0) / 1000;
  const ver = runs.find((x) => x.preset === "cifar" && x.density === d && x.sim === "verilator" && !x.skew)!;
  if (res.status === 0) {
    const j = JSON.parse(fs.readFileSync(path.join(dir, "out-icarus", "run.json"), "utf8"));
    speed.cifar = { density: d, finished: true, icarusSeconds: j.wallSeconds, verilatorSeconds: ver.wallSeconds, ratio: j.wallSeconds / ver.wallSeconds };
  } else speed.cifar = { density: d, finished: false, limitMinutes: icarusMinutes, wallSeconds: wall, verilatorSeconds: ver.wallSeconds };
  // the simulator processes of a killed run are gone with it (spawnSync kills the child tree's leader)
}

// ------------------------------------------------------------------------------ targets
const find = (preset: string, d: number, skew = false) => runs.find((x) => x.preset === preset && x.density === d && x.skew === skew && x.sim === "verilator");
const targets: { target: string; value: string; pass: boolean }[] = [];
for (const d of [0.1, 0.2]) {
  const x = find("cifar", d);
  if (x) targets.push({ target: `cifar d${d}: utilization >= 80% with <= 84 lanes`, value: `${(100 * x.utilization).toFixed(1)}% on ${x.lanes} lanes`, pass: x.utilization >= 0.8 && x.lanes <= 84 });
}
for (const preset of presets) {
  const x = find(preset, skewDensity, true);
  if (x && preset === "cifar") targets.push({ target: `cifar d${skewDensity}, router skewed to expert 0: utilization >= 70%`, value: `${(100 * x.utilization).toFixed(1)}%`, pass: x.utilization >= 0.7 });
}
{
  const a = find("cifar", 0.2);
  const b = find("cifar", 0.1);
  if (a && b) targets.push({ target: "cifar: cycles(d0.2) / cycles(d0.1) >= 1.8", value: (a.cycles / b.cycles).toFixed(3), pass: a.cycles / b.cycles >= 1.8 });
}
if (speed.tiny) {
  const s = speed.tiny as { ratio: number; verilatorSeconds: number; icarusSeconds: number };
  targets.push({ target: "tiny: Verilator >= 20x faster than Icarus (simulator wall time, same run)", value: `${s.ratio.toFixed(1)}x (${(1000 * s.verilatorSeconds).toFixed(1)} ms vs ${(1000 * s.icarusSeconds).toFixed(0)} ms)`, pass: s.ratio >= 20 });
}
if (generation.cifar) targets.push({ target: "st3d generate cifar < 1 s wall", value: `${generation.cifar.wall.toFixed(2)} s (CPU ${generation.cifar.cpu?.toFixed(2) ?? "?"} s)`, pass: generation.cifar.wall < 1 });
targets.push({ target: "every run bit exact, counters = cycle model", value: failures.length ? failures.join("; ") : "yes", pass: failures.length === 0 });

// ------------------------------------------------------------------------------ report
endLoad(machine);
const json = { command: `npm run bench -- ${args.join(" ")}`.trim(), date: new Date().toISOString(), machine, startup, generation, runs, speed, targets };
fs.writeFileSync(path.join(OUT, "bench.json"), JSON.stringify(json, null, 2) + "\n");

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const md: string[] = [];
md.push(`Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memGiB} GiB, ${machine.os}, Node ${machine.node}, ${machine.verilator}, ${machine.icarus}; load average ${machine.loadAverageStart.join(" / ")} at the start, ${machine.loadAverageEnd.join(" / ")} at the end.`);
md.push("");
md.push("| target | measured | |", "|---|---|---|", ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.pass ? "met" : "**not met**"} |`));
md.push("");
md.push("| preset | density | router | cycles | synaptic ops | lanes | lane bound | utilization | pool | router | o waits for attention | sim wall |", "|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const x of runs.filter((y) => y.sim === "verilator")) {
  const e = x.engines as { pool: { utilization: number }; router: { utilization: number } };
  md.push(`| ${x.preset} | ${x.density} (S0 ${x.spikeDensity.s0.toFixed(3)}, O ${x.spikeDensity.o.toFixed(3)}) | ${x.skew ? "skewed to expert 0" : "random"} | ${x.cycles.toLocaleString("en-US")} | ${x.synapticOps.toLocaleString("en-US")} | ${x.lanes} | ${Math.round(x.laneBound).toLocaleString("en-US")} | ${pct(x.utilization)} | ${pct(e.pool.utilization)} | ${pct(e.router.utilization)} | ${x.attentionExposed} | ${x.wallSeconds.toFixed(1)} s |`);
}
md.push("");
md.push(`| preset | \`st3d generate\` wall (median of ${genRuns}) | CPU | first run (builds the start-up caches) |`, "|---|---|---|---|");
for (const [k, v] of Object.entries(generation)) md.push(`| ${k} | ${v.wall.toFixed(2)} s | ${v.cpu?.toFixed(2) ?? "?"} s | ${v.firstWall.toFixed(2)} s |`);
md.push(`| (start-up: \`st3d --version\`) | ${startup.wall.toFixed(2)} s | ${startup.cpu?.toFixed(2) ?? "?"} s | |`);
md.push("");
const c1 = find("cifar", densities.includes(0.1) ? 0.1 : densities[0]);
if (c1) {
  md.push(`Busy cycles per block and phase, cifar density ${c1.density} (hardware counters, run.json \`perLayer\`):`, "");
  md.push(`| block | ${DATAFLOW_PHASES.join(" | ")} |`, `|---|${DATAFLOW_PHASES.map(() => "---").join("|")}|`);
  const L = Math.max(...c1.perLayer.map((x) => x.block)) + 1;
  for (let b = 0; b < L; b++) md.push(`| ${b} | ${DATAFLOW_PHASES.map((ph) => c1.perLayer.find((x) => x.block === b && x.phase === ph)!.cycles.toLocaleString("en-US")).join(" | ")} |`);
  const e = c1.engines as { pool: { cycles: Record<string, number> }; router: { cycles: Record<string, number> } };
  md.push("", `Perf classes (cycles), cifar density ${c1.density}:`, "", `| engine | ${PERF_CLASSES.join(" | ")} |`, `|---|${PERF_CLASSES.map(() => "---").join("|")}|`);
  for (const k of ["pool", "router"] as const) md.push(`| ${k} | ${PERF_CLASSES.map((c) => e[k].cycles[c].toLocaleString("en-US")).join(" | ")} |`);
}
md.push("");
if (speed.tiny) {
  const s = speed.tiny as { density: number; verilatorSeconds: number; icarusSeconds: number; ratio: number; stRunWall: { verilator: number; icarus: number } };
  md.push(`Simulator speed, tiny density ${s.density} (host loading + inference + readback, the simulator process alone, best of 15 each, interleaved): Verilator ${(1000 * s.verilatorSeconds).toFixed(1)} ms, Icarus ${(1000 * s.icarusSeconds).toFixed(0)} ms, ratio ${s.ratio.toFixed(1)}; through \`st3d run\` (process start included): ${s.stRunWall.verilator.toFixed(3)} s vs ${s.stRunWall.icarus.toFixed(3)} s.`);
}
if (speed.cifar) {
  const s = speed.cifar as { finished: boolean; density: number; icarusSeconds?: number; verilatorSeconds: number; ratio?: number; limitMinutes?: number };
  md.push(
    s.finished
      ? `cifar density ${s.density}: Icarus ${s.icarusSeconds!.toFixed(0)} s, Verilator ${s.verilatorSeconds.toFixed(0)} s (ratio ${s.ratio!.toFixed(1)}).`
      : `cifar density ${s.density}: Icarus did not finish within ${s.limitMinutes} min (Verilator: ${s.verilatorSeconds.toFixed(0)} s).`,
  );
}
fs.writeFileSync(path.join(OUT, "BENCH.md"), md.join("\n") + "\n");
console.log(md.join("\n"));
console.error(`[bench] results: ${path.relative(process.cwd(), path.join(OUT, "bench.json"))}, ${path.relative(process.cwd(), path.join(OUT, "BENCH.md"))}`);
if (failures.length) process.exitCode = 1;
