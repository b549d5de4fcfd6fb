/**
 * Calibration of the report's wirelength model against a real placer (not a test; results in
 * docs/REPORT.md "Calibration"):
 *
 *   nice npx tsx scripts/calibrate-wirelength.ts [preset=tiny] [--timeout 600] [--max-cells 8000]
 *
 * 1. the bottom tier of the preset's memory-on-logic view (all its logic, flat) placed by
 *    GrayWolf (qflow's placer, generator/toolchain/graywolf.ts) with a time limit; its placed
 *    half-perimeter wirelength against the model's (Rent + Donath inside the blocks, the
 *    floorplan between them, generator/report/wirelength.ts);
 * 2. every distinct mapped module of the view with at most --max-cells cells placed on its
 *    own: placed HPWL against the model's nets × L̄(N, p) × pitch, with the report's pitch
 *    (standard-cell area / utilization) and with the pitch of GrayWolf's own placement.
 * Writes build/calibrate/<preset>/calibration.json and prints a table.  --no-tier skips step 1.
 */
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { designFor, synthConfig } from "../generator/physical/design.ts";
import { flatView, synthModules } from "../generator/physical/synth.ts";
import { OSU018_DIR } from "../generator/physical/library.ts";
import { graywolfPlace, type PlaceResult } from "../generator/toolchain/graywolf.ts";
import { rentFits, viewResolved, type Timings } from "../generator/report/flow.ts";
import { donathLength } from "../generator/report/rent.ts";
import { blockWires, interNets, viewWire } from "../generator/report/wirelength.ts";
import { floorplanView } from "../generator/report/floorplan.ts";
import { UTILIZATION } from "../generator/report/constants.ts";
import { progress } from "../generator/progress/progress.ts";

/** GrayWolf with a progress line (annealing iterations) every 5 s. */
async function place(label: string, o: Omit<Parameters<typeof graywolfPlace>[0], "onProgress">): Promise<PlaceResult> {
  const p = progress(`calibrate: ${label}`);
  const res = await graywolfPlace({ ...o, onProgress: (it) => p.log(`GrayWolf annealing, ${it} iterations`) });
  p.done(res.finished ? `placed in ${res.seconds.toFixed(0)} s` : `not finished in ${res.seconds.toFixed(0)} s`);
  return res;
}

const args = process.argv.slice(2);
const opt = (k: string, d: string) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const preset = args.find((a, i) => !a.startsWith("--") && (i === 0 || !args[i - 1].startsWith("--"))) ?? "tiny";
const timeoutMs = Number(opt("--timeout", "600")) * 1000;
const maxCells = Number(opt("--max-cells", "8000"));
const withTier = !args.includes("--no-tier");
const out = path.resolve("build", "calibrate", preset);
fs.mkdirSync(out, { recursive: true });

const r = viewResolved(resolve(loadConfig(preset)), "memory-on-logic");
const cfg = synthConfig(r, {});
const lib = cfg.lib;
const par = path.join(OSU018_DIR, "osu018.par");
if (!lib.lef) throw new Error("calibration needs the LEF of the library (OSU018)");
const d = await designFor(r, { physical: true });
const nl = d.acc.netlist;
const instModules = [...new Set(nl.instances.map((i) => i.module))];
const mods = await synthModules(d.files, instModules, d.tops, cfg);
const t: Timings = { totalSeconds: 0, steps: {}, cache: {} };
const rents = await rentFits(mods, instModules, cfg, {}, t);
const bw = blockWires(nl, new Map(nl.instances.map((i) => [i.name, mods.get(i.module)!.stdCellAreaUm2])), rents, UTILIZATION.value);
const tier = d.threeD!.assign;
const fp = floorplanView(nl, nl.instances.map((i) => ({ inst: i.name, kind: i.kind, tier: tier.get(i.name)!, cellAreaUm2: mods.get(i.module)!.stdCellAreaUm2, macroAreaUm2: mods.get(i.module)!.macroAreaUm2 })), { utilization: UTILIZATION.value, threeD: true });
const nets = interNets(nl, fp);
const vw = viewWire(fp, bw, nets);
const drop = lib.tie.st3d ? ["ST3D_TIEHI", "ST3D_TIELO"] : [];

const results: Record<string, unknown> = { preset, view: "memory-on-logic", timeoutSeconds: timeoutMs / 1000, utilization: UTILIZATION.value };
// 1. the bottom tier, flat
const top = `${r.name}_tier_bottom`;
const fv = await flatView(top, mods, cfg);
const bottomInter = nets.filter((n) => tier.get(n.driver) === "bottom" && n.sinks.every((s) => s !== "<chip>" && tier.get(s) === "bottom")).reduce((a, n) => a + n.width * n.lengthUm, 0);
const bottomIntra = bw.filter((b) => tier.get(b.inst) === "bottom").reduce((a, b) => a + b.intraUm, 0);
if (!withTier) results.tier = { top, cells: fv.cells, skipped: true, modelUm: bottomIntra + bottomInter, modelIntraUm: bottomIntra, modelInterUm: bottomInter };
else {
  console.error(`[calibrate] placing the whole ${top} (${fv.cells} cells) with GrayWolf, limit ${timeoutMs / 1000} s ...`);
  const tierRes: PlaceResult = await place(top, { verilog: fv.verilog, module: top, liberty: lib.liberty, lef: lib.lef, par, extraLibs: fv.extraLibs, dropCells: drop, dir: path.join(out, top), timeoutMs });
  results.tier = { top, cells: tierRes.cells, finished: tierRes.finished, seconds: tierRes.seconds, iterations: tierRes.iterations, placedHpwlUm: tierRes.hpwlUm, modelUm: bottomIntra + bottomInter, modelIntraUm: bottomIntra, modelInterUm: bottomInter, error: tierRes.hpwlUm ? (bottomIntra + bottomInter) / tierRes.hpwlUm - 1 : null, dieWire: vw.dies.find((x) => x.die === "bottom") };
  console.error(`[calibrate] ${top}: ${tierRes.finished ? `placed in ${tierRes.seconds.toFixed(0)} s, HPWL ${(tierRes.hpwlUm! / 1e6).toFixed(3)} m` : `not finished in ${(tierRes.seconds).toFixed(0)} s (${tierRes.iterations} annealing iterations done)`}`);
}
// 2. modules
const seen = new Set<number>();
const rows: Record<string, unknown>[] = [];
for (const m of [...instModules].sort((a, b) => mods.get(a)!.cellCount - mods.get(b)!.cellCount)) {
  const ms = mods.get(m)!;
  const f = rents.get(m)!;
  if (!f.measured || ms.cellCount > maxCells || seen.has(ms.cellCount)) continue;
  seen.add(ms.cellCount);
  console.error(`[calibrate] placing ${m} (${ms.cellCount} cells) ...`);
  const res = await place(m, { verilog: ms.verilog, module: m, liberty: lib.liberty, lef: lib.lef, par, dropCells: drop, dir: path.join(out, m), timeoutMs });
  const L = donathLength(f.cells, f.p);
  const pitchReport = Math.sqrt(ms.stdCellAreaUm2 / UTILIZATION.value / f.cells);
  const pitchPlaced = res.cellBoxUm2 ? Math.sqrt(res.cellBoxUm2 / f.cells) : null;
  const model = f.nets * L * pitchReport;
  const modelPlacedPitch = pitchPlaced ? f.nets * L * pitchPlaced : null;
  const row = { module: m, cells: f.cells, nets: f.nets, rentP: f.p, donathPitches: L, finished: res.finished, seconds: res.seconds, placedHpwlUm: res.hpwlUm, modelUm: model, errorReportPitch: res.hpwlUm ? model / res.hpwlUm - 1 : null, pitchReportUm: pitchReport, pitchPlacedUm: pitchPlaced, modelPlacedPitchUm: modelPlacedPitch, errorPlacedPitch: res.hpwlUm && modelPlacedPitch ? modelPlacedPitch / res.hpwlUm - 1 : null };
  rows.push(row);
  console.error(`[calibrate]   ${m}: ${res.finished ? `HPWL ${res.hpwlUm!.toFixed(0)} um, model ${model.toFixed(0)} um (${(100 * (row.errorReportPitch as number)).toFixed(1)} %), with the placed pitch ${modelPlacedPitch!.toFixed(0)} um (${(100 * (row.errorPlacedPitch as number)).toFixed(1)} %), ${res.seconds.toFixed(0)} s` : `not finished in ${res.seconds.toFixed(0)} s`}`);
  fs.writeFileSync(path.join(out, "calibration.json"), JSON.stringify({ ...results, modules: rows }, null, 2) + "\n");
}
results.modules = rows;
fs.writeFileSync(path.join(out, "calibration.json"), JSON.stringify(results, null, 2) + "\n");
console.log(`calibration: ${path.join(out, "calibration.json")}`);
