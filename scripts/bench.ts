/**
 * Benchmarks (not tests): end-to-end runs of bigger configs, with cycle counts,
 * utilization and wall-clock times.  `npm run bench -- [preset ...] [--sim icarus|verilator] [--density p]`
 * Defaults: the cifar preset on Verilator.  Each run is checked value for value against
 * the golden model; results go to build/bench/<preset>/ and a summary to stdout.
 */
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { runGolden } from "../generator/model/golden.ts";
import { randomModel, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { st3dRun } from "../generator/run/run.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args.splice(i, 2)[1] : d;
};
const sim = opt("--sim", "verilator") as "verilator" | "icarus";
const density = Number(opt("--density", "0.15"));
const view = opt("--view", "2d") as "2d" | "3d";
const presets = args.length ? args : ["cifar"];

const rows: string[] = [];
for (const preset of presets) {
  const r = resolve(loadConfig(preset));
  const dir = path.resolve("build/bench", preset);
  fs.mkdirSync(dir, { recursive: true });
  console.error(`[bench] ${preset}: random model (density ${density}) ...`);
  const { model, input } = randomModel(r, 1, density);
  writeModelDir(r, model, path.join(dir, "weights"));
  writeInput(r, input, path.join(dir, "input.npy"));
  let t0 = Date.now();
  const g = runGolden(r, model, input);
  const goldenS = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const res = await st3dRun(r, { weights: path.join(dir, "weights"), input: path.join(dir, "input.npy"), out: path.join(dir, `out-${sim}-${view}`), sim, view, log: (m) => console.error(`[bench] ${m}`) });
  const wall = (Date.now() - t0) / 1000;
  const a = res.output.flat(2);
  const b = g.out.flat(2);
  const mism = a.reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0);
  const j = res.json;
  rows.push(
    `${preset.padEnd(8)} ${sim.padEnd(9)} ${view} cycles ${String(j.cycles).padStart(10)}  syn ${String(j.synapticOps).padStart(11)}  util ${(100 * (j.utilization as number)).toFixed(1).padStart(5)}%  mismatches ${mism}  wall ${wall.toFixed(1)} s (golden ${goldenS.toFixed(1)} s)`,
  );
  fs.writeFileSync(path.join(dir, `bench-${sim}-${view}.json`), JSON.stringify({ preset, sim, view, density, mismatches: mism, wallSeconds: wall, goldenSeconds: goldenS, run: j }, null, 2) + "\n");
  if (mism) process.exitCode = 1;
}
console.log(rows.join("\n"));
