/**
 * Benchmark of the weights streamed from off-chip against the all-resident design (issue #17's
 * must-show; not a test; docs/BENCH.md "Weights off chip"):
 *
 *   npx tsx scripts/bench-stream.ts [preset=cifar] [--seed 1] [--density 0.15] [--bandwidth 16] [--latency 100] [--out DIR] [--predict-only]
 *
 * For one random model (generator/model/tensors.ts randomModel, the seed and density above):
 *   1. the on-chip weight storage of both designs from their generated memories (macros.json of
 *      the design, the pool's weight memories: the banks wp<b> resident, the buffer halves
 *      wb0/wb1 streamed), and the cycle model's prediction of both cycle counts
 *      (generator/blocks/dataflow/cycles.ts: exact on chip, an estimate streamed);
 *   2. unless --predict-only: `st3d run --sim verilator --check` of the preset (weights on chip)
 *      and of the preset with hardware.weightsOnChip false at --mem-bandwidth B --mem-latency L,
 *      each checked against the golden model (a mismatch fails the benchmark), timed.
 * Prints a table and writes <out>/bench-stream.json (default out: build/bench/stream/<preset>).
 * Targets (#17): streamed cycles <= 1.25 x resident cycles; on-chip weight bits cut >= 10x.
 * Exit 1 when a run fails or differs from the golden model; a missed target is reported, not
 * an error.  Uses $ST3D_CACHE (default <out>/cache); run it with `nice` on a shared machine.
 */
import fs from "node:fs";
import path from "node:path";
import { st3dChild } from "./st3dChild.ts";
import { loadConfig, parseConfig } from "../generator/config/load.ts";
import { resolve, type Resolved } from "../generator/config/resolve.ts";
import type { UserConfig } from "../generator/config/schema.ts";
import { buildDesign } from "../generator/design.ts";
import { randomModel, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { runGolden } from "../generator/model/golden.ts";
import { dataflowParams } from "../generator/blocks/dataflow/dataflow.ts";
import { dataflowCycles, dataflowCyclesStreamed, dataflowWork, type StreamLayerTiming } from "../generator/blocks/dataflow/cycles.ts";
import { weightStoreInstances } from "../generator/report/weightStore.ts";
import { MEM_LATENCY_DEFAULT } from "../generator/run/run.ts";

const args = process.argv.slice(2);
const opt = (k: string, d: string) => {
  const i = args.indexOf(k);
  return i >= 0 ? args[i + 1] : d;
};
const preset = args.find((a, i) => !a.startsWith("--") && (i === 0 || !args[i - 1].startsWith("--"))) ?? "cifar";
const seed = Number(opt("--seed", "1"));
const density = Number(opt("--density", "0.15"));
const bandwidth = Number(opt("--bandwidth", "16"));
const latency = Number(opt("--latency", String(MEM_LATENCY_DEFAULT)));
const predictOnly = args.includes("--predict-only");
const root = path.resolve(opt("--out", path.join("build", "bench", "stream", preset)));
const CYCLES_TARGET = 1.25;
const BITS_TARGET = 10;
/** ctrl's CYCLES (run.json cycles) = the dataflow's busy cycles + 2, its start and done cycles (docs/ARCHITECTURE.md "dataflow") */
const CTRL_CYCLES = 2;

interface Storage {
  placement: "banks" | "buffer";
  memories: { module: string; depth: number; width: number; logicalBits: number; storageBits: number; macroCount: number; tier: string }[];
  logicalBits: number;
  /** with the macros' padding (macros.json storageBits) */
  storageBits: number;
  macroCount: number;
}

/** The pool's weight storage of a design, from its generated macros.json (both tiers). */
function storageOf(r: Resolved): Storage {
  const d = buildDesign(r);
  const { placement, insts } = weightStoreInstances(d);
  const modules = new Set(insts.map((i) => d.acc.netlist.instances.find((x) => x.name === i)!.module));
  const memories: Storage["memories"] = [];
  for (const tier of ["bottom", "top"]) {
    const f = d.files.find((x) => x.path === `macros/${tier}/macros.json`);
    if (!f) continue;
    const mj = JSON.parse(f.content) as { memories: { module: string; depth: number; width: number; logicalBits: number; storageBits: number; macroCount: number }[] };
    for (const m of mj.memories) if (modules.has(m.module)) memories.push({ module: m.module, depth: m.depth, width: m.width, logicalBits: m.logicalBits, storageBits: m.storageBits, macroCount: m.macroCount, tier });
  }
  if (memories.length !== modules.size) throw new Error(`macros.json of ${r.name} lists ${memories.length} of the ${modules.size} pool weight memories`);
  const sum = (k: "logicalBits" | "storageBits" | "macroCount") => memories.reduce((a, m) => a + m[k], 0);
  return { placement, memories, logicalBits: sum("logicalBits"), storageBits: sum("storageBits"), macroCount: sum("macroCount") };
}

function st3d(argv: string[], cache: string): Promise<{ code: number; seconds: number; out: string }> {
  return st3dChild(argv, { ST3D_CACHE: cache });
}

const fmt = (x: number | null | undefined, d = 0) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));

/** Where the streamed estimate loses cycles: the layers that wait for their weights, most first. */
function stalls(layers: readonly StreamLayerTiming[]) {
  return layers
    .filter((l) => l.waitW > 0)
    .sort((a, b) => b.waitW - a.waitW || a.useStart - b.useStart)
    .map((l) => ({ block: l.block, layer: l.expert === null ? l.layer : `${l.layer}[${l.expert}]`, words: l.words, waitW: l.waitW, take: l.take, dataStart: l.dataStart, dataEnd: l.dataEnd, useStart: l.useStart, useEnd: l.useEnd }));
}

async function main() {
  fs.mkdirSync(root, { recursive: true });
  const cache = process.env.ST3D_CACHE ?? path.join(root, "cache");
  const u: UserConfig = loadConfig(preset);
  const cfg = (onChip: boolean): UserConfig => ({ ...u, hardware: { ...u.hardware, weightsOnChip: onChip } });
  const on = resolve(parseConfig(cfg(true), `${preset} (weights on chip)`));
  const st = resolve(parseConfig(cfg(false), `${preset} (weights streamed)`));
  const w = st.hw.weights;
  const wall: Record<string, number> = {};
  let t0 = Date.now();

  // the model, and the storage of both designs
  const { model, input } = randomModel(on, seed, density);
  const mdir = path.join(root, "model");
  fs.rmSync(mdir, { recursive: true, force: true });
  writeModelDir(on, model, path.join(mdir, "weights"));
  writeInput(on, input, path.join(mdir, "input.npy"));
  const cfgFile = (name: string, onChip: boolean) => {
    const f = path.join(root, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify(cfg(onChip), null, 2) + "\n");
    return f;
  };
  const files = { onChip: cfgFile("config-onchip", true), streamed: cfgFile("config-streamed", false) };
  wall.model = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const storage = { onChip: storageOf(on), streamed: storageOf(st) };
  wall.generate = (Date.now() - t0) / 1000;

  // the cycle model: exact on chip, an estimate streamed
  t0 = Date.now();
  const g = runGolden(on, model, input);
  const work = dataflowWork(on, model, g.trace);
  const m0 = dataflowCycles(dataflowParams(on), work);
  const m1 = dataflowCyclesStreamed(dataflowParams(st), work, { latency, bytesPerCycle: bandwidth, beatBits: w.beatBits, beatsPerWord: w.beatsPerWord });
  // in run.json's unit (ctrl's CYCLES)
  const predOn = { total: m0.total + CTRL_CYCLES };
  const predSt = { total: m1.total + CTRL_CYCLES, pool: m1.pool, stream: m1.stream };
  const predStalls = stalls(predSt.stream!);
  wall.predict = (Date.now() - t0) / 1000;

  // the two runs on Verilator, checked against the golden model
  type Run = { cycles: number; match: boolean; seconds: number; wallSeconds: number; offchip: Record<string, number> | null; waitW: number };
  const runs: { onChip?: Run; streamed?: Run } = {};
  let failed: string | null = null;
  if (!predictOnly) {
    for (const [k, file] of Object.entries(files) as ["onChip" | "streamed", string][]) {
      const out = path.join(root, `run-${k}`);
      const argv = ["run", "-c", file, "-w", path.join(mdir, "weights"), "-i", path.join(mdir, "input.npy"), "-o", out, "--sim", "verilator", "--check", "--force", ...(k === "streamed" ? ["--mem-bandwidth", String(bandwidth), "--mem-latency", String(latency)] : [])];
      console.error(`[bench-stream] ${k}: st3d ${argv.join(" ")}`);
      const r = await st3d(argv, cache);
      wall[`run ${k}`] = r.seconds;
      const jf = path.join(out, "run.json");
      const j = fs.existsSync(jf) ? JSON.parse(fs.readFileSync(jf, "utf8")) : null;
      if (r.code !== 0 || !j?.check?.match) {
        failed = `${k}: st3d run exited ${r.code}${j ? `, check ${j.check?.match ? "matches" : "DIFFERS from"} the golden model` : ", no run.json"}\n${r.out.slice(-2000)}`;
        break;
      }
      runs[k] = { cycles: j.cycles, match: j.check.match, seconds: j.seconds, wallSeconds: r.seconds, offchip: j.offchip, waitW: j.engines?.pool?.cycles?.waitW ?? 0 };
    }
  }

  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : null);
  const cyclesRatio = ratio(runs.streamed?.cycles, runs.onChip?.cycles);
  const predRatio = predSt.total / predOn.total;
  const bitsRatio = storage.onChip.logicalBits / storage.streamed.logicalBits;
  const oc = runs.streamed?.offchip ?? null;
  const modelWeightBytes = (w.imageWords * w.wordBits) / 8;
  // the pool layers' parameters proper (q, k, v, o: D x D; fc1: F x D and fc2: D x F of every expert), without the lanes past a layer's outputs
  const paramBytes = (st.L * (4 * st.D * st.D + st.E * 2 * st.D * st.F) * st.weightBits) / 8;
  // the bytes of the layers the golden routing uses, each once (exactly what st3d run --check demands)
  const predBytes = (predSt.stream!.reduce((a, l) => a + l.words, 0) * w.beatsPerWord * w.beatBits) / 8;
  const res = {
    preset,
    seed,
    density,
    memory: { bandwidthBytesPerCycle: bandwidth, latencyCycles: latency, beatBits: w.beatBits, beatsPerWord: w.beatsPerWord, wordBits: w.wordBits, bufferBits: w.bufferBits },
    targets: { cyclesRatioMax: CYCLES_TARGET, weightBitsCutMin: BITS_TARGET },
    cycles: {
      onChip: runs.onChip?.cycles ?? null,
      streamed: runs.streamed?.cycles ?? null,
      ratio: cyclesRatio,
      pass: cyclesRatio === null ? null : cyclesRatio <= CYCLES_TARGET,
      streamedWaitW: runs.streamed?.waitW ?? null,
    },
    prediction: {
      source: "generator/blocks/dataflow/cycles.ts: dataflowCycles (exact with the weights on chip) and dataflowCyclesStreamed (an estimate with them streamed), + 2 (ctrl's CYCLES = busy cycles + 2)",
      onChip: predOn.total,
      streamed: predSt.total,
      ratio: predRatio,
      pass: predRatio <= CYCLES_TARGET,
      streamedWaitW: predSt.pool.waitW,
      bytesRead: predBytes,
      /** measured / predicted (when simulated) */
      errorOnChip: runs.onChip ? runs.onChip.cycles / predOn.total - 1 : null,
      errorStreamed: runs.streamed ? runs.streamed.cycles / predSt.total - 1 : null,
      stalls: predStalls.slice(0, 12),
      layers: predSt.stream!.length,
    },
    weightStorage: {
      onChip: storage.onChip,
      streamed: storage.streamed,
      cut: bitsRatio,
      pass: bitsRatio >= BITS_TARGET,
    },
    offchip: oc
      ? { bytesRead: oc.bytesRead, weightBytes: oc.weightBytes, modelWeightBytes: oc.modelWeightBytes, parameterBytes: paramBytes, overheadVsModel: oc.bytesRead / oc.modelWeightBytes - 1, overheadVsParameters: oc.bytesRead / paramBytes - 1, padding: oc.overhead, bursts: oc.bursts, beats: oc.beats, waitCycles: oc.waitCycles }
      : { bytesRead: null, modelWeightBytes, parameterBytes: paramBytes, overheadVsModel: null, overheadVsParameters: null, padding: w.overhead },
    checks: { onChipMatchesGolden: runs.onChip?.match ?? null, streamedMatchesGolden: runs.streamed?.match ?? null },
    wallSeconds: { ...wall, ...(runs.onChip ? { "sim onChip": runs.onChip.seconds } : {}), ...(runs.streamed ? { "sim streamed": runs.streamed.seconds } : {}) },
    predictOnly,
  };
  fs.writeFileSync(path.join(root, "bench-stream.json"), JSON.stringify(res, null, 2) + "\n");

  const pf = (p: boolean | null) => (p === null ? "–" : p ? "PASS" : "MISS");
  const lines = [
    `bench-stream: ${preset}, random model seed ${seed} density ${density}; streamed at ${bandwidth} B/cycle, latency ${latency} cycles, ${w.beatBits}-bit beats (${w.beatsPerWord} per ${w.wordBits}-bit word)`,
    "".padEnd(34) + "on chip".padStart(16) + "streamed".padStart(16) + "ratio".padStart(10) + "  target",
    "cycles (Verilator)".padEnd(34) + fmt(res.cycles.onChip).padStart(16) + fmt(res.cycles.streamed).padStart(16) + fmt(cyclesRatio, 4).padStart(10) + `  <= ${CYCLES_TARGET}: ${pf(res.cycles.pass)}`,
    "cycles (cycle model)".padEnd(34) + fmt(predOn.total).padStart(16) + fmt(predSt.total).padStart(16) + fmt(predRatio, 4).padStart(10) + `  <= ${CYCLES_TARGET}: ${pf(res.prediction.pass)} (streamed: estimate)`,
    "pool waitW cycles (sim / model)".padEnd(34) + "0".padStart(16) + `${fmt(res.cycles.streamedWaitW)} / ${fmt(predSt.pool.waitW)}`.padStart(16),
    "on-chip pool weight bits".padEnd(34) + fmt(storage.onChip.logicalBits).padStart(16) + fmt(storage.streamed.logicalBits).padStart(16) + `${fmt(bitsRatio, 2)}x`.padStart(10) + `  >= ${BITS_TARGET}x: ${pf(res.weightStorage.pass)}`,
    "  with macro padding / macros".padEnd(34) + `${fmt(storage.onChip.storageBits)} / ${storage.onChip.macroCount}`.padStart(16) + `${fmt(storage.streamed.storageBits)} / ${storage.streamed.macroCount}`.padStart(16),
    "off-chip bytes read".padEnd(34) + "0".padStart(16) + fmt(oc?.bytesRead ?? null).padStart(16) + (oc ? `  model's pool weights ${fmt(oc.modelWeightBytes)} B: ${oc.bytesRead >= oc.modelWeightBytes ? "+" : ""}${fmt(100 * (oc.bytesRead / oc.modelWeightBytes - 1), 2)} % (beat padding ${fmt(100 * oc.overhead, 2)} %)` : ""),
    "off-chip bytes read (model)".padEnd(34) + "0".padStart(16) + fmt(predBytes).padStart(16) + `  model's pool weights ${fmt(modelWeightBytes)} B: ${predBytes >= modelWeightBytes ? "+" : ""}${fmt(100 * (predBytes / modelWeightBytes - 1), 2)} %`,
    "pool parameters (weightBits each)".padEnd(34) + "".padStart(16) + fmt(paramBytes).padStart(16) + `  read / parameters: ${oc ? `measured ${fmt(100 * (oc.bytesRead / paramBytes - 1), 2)} %, ` : ""}model ${fmt(100 * (predBytes / paramBytes - 1), 2)} %`,
    "golden check".padEnd(34) + String(res.checks.onChipMatchesGolden ?? "–").padStart(16) + String(res.checks.streamedMatchesGolden ?? "–").padStart(16),
    "wall s".padEnd(34) + fmt(runs.onChip?.wallSeconds ?? null, 1).padStart(16) + fmt(runs.streamed?.wallSeconds ?? null, 1).padStart(16) + `  (model ${fmt(wall.model, 1)}, generate ${fmt(wall.generate, 1)}, prediction ${fmt(wall.predict, 1)})`,
  ];
  if (predStalls.length) {
    lines.push(`layers waiting for weights in the estimate (${predStalls.length} of ${predSt.stream!.length}), most first:`);
    for (const s of predStalls.slice(0, 8)) lines.push(`  block ${s.block} ${s.layer.padEnd(7)} ${fmt(s.words)} words: waitW ${fmt(s.waitW)} (descriptor at ${fmt(s.take)}, beats ${fmt(s.dataStart)}..${fmt(s.dataEnd)}, use ${fmt(s.useStart)}..${fmt(s.useEnd)})`);
  }
  lines.push(`JSON: ${path.join(root, "bench-stream.json")}`);
  console.log(lines.join("\n"));
  if (failed) {
    console.error(`[bench-stream] FAILED: ${failed}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
