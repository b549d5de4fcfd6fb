/**
 * Benchmark of the physical flow (not a test; docs/PHYSICAL.md "Benchmark"):
 *
 *   npx tsx scripts/bench-physical.ts [preset=default] [--density 0.15] [--seed 1] [--sim verilator]
 *   npx tsx scripts/bench-physical.ts tiny --gatelevel     # tiny's gate-level netlist on Icarus and Verilator vs golden
 *
 * Runs, each timed in this one process (run it with `nice`):
 *   1. st3d synth <preset> on an empty cache (cold), 2. again on that cache (cached),
 *   3. st3d random-model + st3d run (RTL with activity counters), 4. st3d timing --activity.
 * Writes build/bench/physical/<preset>/bench.json (figures + wall times) and prints a summary.
 */
import fs from "node:fs";
import path from "node:path";
import { st3dChild } from "./st3dChild.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const preset = args.find((a, i) => !a.startsWith("--") && (i === 0 || !args[i - 1].startsWith("--"))) ?? "default";
const density = opt("--density", "0.15");
const seed = opt("--seed", "1");
const sim = opt("--sim", "verilator");
const root = path.resolve("build", "bench", "physical", preset);
fs.mkdirSync(root, { recursive: true });
const cache = path.join(root, `cache-${Date.now().toString(36)}`);

function st3d(argv: string[]): Promise<{ code: number; seconds: number; out: string }> {
  return st3dChild(argv, { ST3D_CACHE: cache });
}

async function step(name: string, argv: string[], times: Record<string, number>): Promise<string> {
  console.error(`[bench-physical] ${name}: st3d ${argv.join(" ")}`);
  const r = await st3d(argv);
  times[name] = r.seconds;
  if (r.code !== 0) {
    console.error(r.out);
    throw new Error(`${name} failed (exit ${r.code})`);
  }
  console.error(`[bench-physical] ${name}: ${r.seconds.toFixed(1)} s`);
  return r.out;
}

async function main() {
  const times: Record<string, number> = {};
  const m = path.join(root, "model");
  if (args.includes("--gatelevel")) {
    await step("random-model", ["random-model", preset, "--seed", seed, "--density", density, "-o", m], times);
    await step("golden", ["run", "-c", preset, "-w", path.join(m, "weights"), "-i", path.join(m, "input.npy"), "-o", path.join(root, "golden"), "--golden"], times);
    const gold = fs.readFileSync(path.join(root, "golden", "output.npy"));
    const same: Record<string, boolean> = {};
    for (const s of ["icarus", "verilator"]) {
      await step(`gatelevel-${s}`, ["run", "-c", preset, "-w", path.join(m, "weights"), "-i", path.join(m, "input.npy"), "-o", path.join(root, `gl-${s}`), "--sim", s, "--netlist"], times);
      same[s] = Buffer.compare(gold, fs.readFileSync(path.join(root, `gl-${s}`, "output.npy"))) === 0;
    }
    const res = { preset, seed: Number(seed), density: Number(density), identicalToGolden: same, wallSeconds: times };
    fs.writeFileSync(path.join(root, "bench-gatelevel.json"), JSON.stringify(res, null, 2) + "\n");
    console.log(JSON.stringify(res, null, 2));
    if (!Object.values(same).every(Boolean)) process.exit(1);
    return;
  }
  await step("synth-cold", ["synth", preset, "-o", path.join(root, "synth-cold")], times);
  await step("synth-cached", ["synth", preset, "-o", path.join(root, "synth-cached")], times);
  await step("random-model", ["random-model", preset, "--seed", seed, "--density", density, "-o", m], times);
  await step("run", ["run", "-c", preset, "-w", path.join(m, "weights"), "-i", path.join(m, "input.npy"), "-o", path.join(root, "run"), "--sim", sim], times);
  const table = await step("timing+power", ["timing", preset, "-o", path.join(root, "timing"), "--activity", path.join(root, "run", "run.json")], times);
  const rep = JSON.parse(fs.readFileSync(path.join(root, "timing", "report.json"), "utf8"));
  const run = JSON.parse(fs.readFileSync(path.join(root, "run", "run.json"), "utf8"));
  const views = Object.fromEntries(
    Object.entries(rep.views as Record<string, Record<string, any>>).map(([v, x]) => [
      v,
      {
        areaMm2: x.areaUm2 / 1e6,
        footprintMm2: x.footprintUm2 / 1e6,
        cells: x.cells,
        bonds: x.bonds,
        tiersMm2: Object.fromEntries(Object.entries(x.tiers as Record<string, { areaUm2: number }>).map(([t, y]) => [t, y.areaUm2 / 1e6])),
        fmaxMHz: x.timing.fmaxMHz,
        fEffMHz: x.timing.fEffMHz,
        wnsNs: x.timing.wnsNs,
        tnsNs: x.timing.tnsNs,
        critical: { from: x.timing.critical?.startpoint, to: x.timing.critical?.endpoint, blocks: x.timing.critical?.blocks },
        energyNj: x.energy.energyNj,
        breakdownNj: Object.fromEntries(Object.entries(x.energy.breakdownPj as Record<string, number>).map(([k, y]) => [k, y / 1000])),
        averagePowerMw: x.energy.averagePowerMw,
        pjPerSynapticOp: x.energy.pjPerSynapticOp,
      },
    ]),
  );
  const res = {
    preset,
    library: rep.library.name,
    clockMHz: rep.clock.targetMHz,
    model: { seed: Number(seed), density: Number(density) },
    run: { simulator: run.simulator, cycles: run.cycles, synapticOps: run.synapticOps, spikes: run.spikes },
    modules: rep.synthesis.modules.length,
    views,
    wallSeconds: times,
  };
  fs.writeFileSync(path.join(root, "bench.json"), JSON.stringify(res, null, 2) + "\n");
  console.log(table);
  console.log(JSON.stringify(res, null, 2));
  console.error(`[bench-physical] cache kept in ${cache} (delete it when done)`);
}

main().catch((e) => {
  console.error(`[bench-physical] ${(e as Error).message}`);
  process.exit(1);
});
