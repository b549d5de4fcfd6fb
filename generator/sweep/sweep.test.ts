/**
 * The sweep's parts without simulators: the sweep file's messages, the points it stands for,
 * the Pareto front, the result files, the output-folder rule, the report stage's interface, and
 * sweep.html in headless Chromium.  (test/sweep.test.ts runs real sweeps, locally and on Slurm.)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expandPoints, loadSweep, parsePointList, parseSweep, type SweepInput } from "./file.ts";
import { dominates, paretoFront } from "./pareto.ts";
import { collectRows, resultsCsv, writeCollected } from "./results.ts";
import { checkSweepDir, commitPointDir, removeStaleTemps, sweepFileKind, tempName, writeSweepManifest } from "./outdir.ts";
import { pointSpec, runPoint } from "./point.ts";
import { reportMetrics, setReportProvider } from "./stages.ts";
import { METRIC_NAMES } from "./metrics.ts";
import { sbatchScript } from "./slurm.ts";
import { workerJobs } from "./pool.ts";
import { acceleratorAreas, designFor, synthConfig } from "../physical/design.ts";
import { report } from "../report/flow.ts";
import { checkPage, chromiumAvailable } from "../html/browser.ts";

const tmp = (p = "sw") => fs.mkdtempSync(path.join(os.tmpdir(), `st3d-${p}-`));
const sweep = (o: Partial<SweepInput> & Record<string, unknown>) => parseSweep({ base: "tiny", axes: {}, ...o });
const msg = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error");
};

describe("sweep file", () => {
  it("names unknown keys, with what is valid", () => {
    expect(msg(() => sweep({ axis: {} }))).toMatch(/axis: unknown key; valid: name, base, set, axes, workload, stages, cycles, objectives/);
    expect(msg(() => sweep({ workload: { densities: [0.1] } as never }))).toMatch(/workload\.densities: unknown key; valid: density, seed, model/);
  });
  it("names an axis that is not a config field, with the nearest one", () => {
    const m = msg(() => sweep({ axes: { "hardware.synapticLane": [4] } }));
    expect(m).toMatch(/axes\["hardware\.synapticLane"\]: not a config field .*did you mean hardware\.synapticLanes\?/);
    expect(m).toMatch(/valid: hardware\.\{synapticLanes, tokenGroup/);
    expect(msg(() => sweep({ axes: { hardware: [4] } }))).toMatch(/axes\["hardware"\]: hardware is a section, not a value/);
    expect(msg(() => sweep({ axes: { "hardware.synapticLanes.x": [4] } }))).toMatch(/hardware\.synapticLanes is a value, it has no field 'x'/);
  });
  it("names an axis value no config accepts, and an empty or repeated axis", () => {
    expect(msg(() => sweep({ axes: { "integration.mode": ["2d", "3D"] } }))).toMatch(/axes\["integration\.mode"\]\[1\]: Invalid option: expected one of .*\(got "3D"\)/);
    expect(msg(() => sweep({ axes: { "hardware.synapticLanes": [4, 5000] } }))).toMatch(/axes\["hardware\.synapticLanes"\]\[1\]: Too big.*\(got 5000\)/);
    expect(msg(() => sweep({ axes: { "hardware.synapticLanes": [] } }))).toMatch(/axes\["hardware\.synapticLanes"\]: an axis must list at least one value/);
    expect(msg(() => sweep({ axes: { "hardware.synapticLanes": [4, 4] } }))).toMatch(/\[1\]: listed twice/);
  });
  it("checks base, workload, stages and objectives", () => {
    expect(msg(() => sweep({ base: "nosuch" }))).toMatch(/base: no config file .*nosuch and no preset of that name.*valid: a preset \(cifar, default, tiny\)/);
    expect(msg(() => sweep({ workload: { density: [1.5] } }))).toMatch(/workload\.density/);
    expect(msg(() => sweep({ workload: { model: "/nonexistent", seed: [1] } }))).toMatch(/workload: give either model .* not both/);
    expect(msg(() => sweep({ objectives: ["speed"] }))).toMatch(/objectives\[0\]: not a metric \(got "speed"\); valid: cycles, utilization/);
    expect(msg(() => sweep({ objectives: ["footprintUm2"] }))).toMatch(/objectives\[0\]: footprintUm2 is computed by the physical or report stage, which this sweep does not run; add it to stages/);
    expect(msg(() => sweep({ stages: ["synth"] as never }))).toMatch(/stages\[0\]: Invalid option/);
  });
  it("reports several problems at once, one line each", () => {
    const m = msg(() => sweep({ axes: { "hardware.x": [1] }, objectives: ["speed"] }));
    expect(m.split("\n").length).toBe(3);
  });
  it("accepts the committed sweep files", () => {
    for (const f of ["sweeps/tiny-4.yaml", "sweeps/default-lanes-cores-modes.yaml"]) expect(expandPoints(loadSweep(f)).length).toBe(f.includes("default") ? 24 : 4);
  });
  it("group the points of one hardware (the four integration modes share their builds)", () => {
    const pts = expandPoints(loadSweep("sweeps/default-lanes-cores-modes.yaml"));
    const groups = new Map<string, string[]>();
    for (const p of pts) groups.set(p.group, [...(groups.get(p.group) ?? []), String(p.axes["integration.mode"])]);
    expect(groups.size, "3 lane budgets x 2 attention-core counts").toBe(6);
    for (const modes of groups.values()) expect(modes.sort()).toEqual(["2d", "auto", "logic-on-logic", "memory-on-logic"]);
    expect(new Set(pts.map((p) => p.key)).size, "every point its own result").toBe(24);
  });
});

describe("points", () => {
  it("are every combination, first axis slowest, workload fastest, with stable keys", () => {
    const s = sweep({ axes: { "hardware.synapticLanes": [2, 4], "integration.mode": ["2d", "auto"] }, workload: { density: [0.1, 0.2] } });
    const pts = expandPoints(s);
    expect(pts.length).toBe(8);
    expect(pts.map((p) => p.label)).toEqual([
      "hardware.synapticLanes=2, integration.mode=2d, density=0.1, seed=1",
      "hardware.synapticLanes=2, integration.mode=2d, density=0.2, seed=1",
      "hardware.synapticLanes=2, integration.mode=auto, density=0.1, seed=1",
      "hardware.synapticLanes=2, integration.mode=auto, density=0.2, seed=1",
      "hardware.synapticLanes=4, integration.mode=2d, density=0.1, seed=1",
      "hardware.synapticLanes=4, integration.mode=2d, density=0.2, seed=1",
      "hardware.synapticLanes=4, integration.mode=auto, density=0.1, seed=1",
      "hardware.synapticLanes=4, integration.mode=auto, density=0.2, seed=1",
    ]);
    expect(new Set(pts.map((p) => p.key)).size).toBe(8);
    expect(pts[0].key).toMatch(/^[0-9a-f]{16}-d0\.1-s1$/);
    // the key does not depend on the axis order
    const s2 = sweep({ axes: { "integration.mode": ["auto", "2d"], "hardware.synapticLanes": [4, 2] }, workload: { density: [0.2, 0.1] } });
    expect(new Set(expandPoints(s2).map((p) => p.key))).toEqual(new Set(pts.map((p) => p.key)));
  });
  it("make an invalid combination a point with the config's message, not an error", () => {
    const s = sweep({ axes: { "model.dim": [8, 6], "model.heads": [2, 4] } });
    const pts = expandPoints(s);
    expect(pts.map((p) => !!p.invalid)).toEqual([false, false, false, true]);
    expect(pts[3].invalid).toMatch(/model\.heads: heads must divide dim \(dim = 6\) \(got 4\); valid: 1, 2, 3, 6/);
    expect(pts[3].key).toMatch(/^x[0-9a-f]{15}-d0\.15-s1$/);
  });
  it("apply set to every point", () => {
    const s = sweep({ set: { "hardware.clockMHz": 250 }, axes: { "hardware.synapticLanes": [2, 4] } });
    expect(expandPoints(s).every((p) => p.config!.hardware.clockMHz === 250)).toBe(true);
    expect(msg(() => sweep({ set: { "hardware.clockMHz": -1 } }))).toMatch(/set\["hardware\.clockMHz"\]: Too small/);
  });
  it("parse --point lists", () => {
    expect(parsePointList("3", 5)).toEqual([3]);
    expect(parsePointList("0,2-4", 5)).toEqual([0, 2, 3, 4]);
    expect(() => parsePointList("5", 5)).toThrow(/outside the sweep's points 0..4/);
    expect(() => parsePointList("a", 5)).toThrow(/not a point index/);
  });
});

describe("Pareto front", () => {
  it("keeps exactly the non-dominated points (minimize and maximize, ties kept)", () => {
    const g = ["minimize", "maximize"] as const;
    expect(dominates([1, 5], [2, 5], [...g])).toBe(true);
    expect(dominates([1, 5], [1, 5], [...g])).toBe(false);
    const v = [[1, 1], [2, 3], [3, 3], [2, 3], null, [0.5, 0.5], [4, 4]];
    // [3,3] is beaten by [2,3]; [1,1], [0.5,0.5], [2,3] twice and [4,4] are not beaten
    expect(paretoFront(v, [...g])).toEqual([0, 1, 3, 5, 6]);
    expect(paretoFront([[1, 2], [2, 1], [2, 2]], ["minimize", "minimize"])).toEqual([0, 1]);
  });
  it("finds the front of random sets like a brute force does", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let k = 0; k < 20; k++) {
      const v = Array.from({ length: 30 }, () => [Math.floor(rnd() * 6), Math.floor(rnd() * 6), Math.floor(rnd() * 6)]);
      const f = new Set(paretoFront(v, ["minimize", "minimize", "maximize"]));
      v.forEach((a, i) => {
        const beaten = v.some((b) => b[0] <= a[0] && b[1] <= a[1] && b[2] >= a[2] && (b[0] < a[0] || b[1] < a[1] || b[2] > a[2]));
        expect(f.has(i)).toBe(!beaten);
      });
    }
  });
});

/** A sweep folder with made-up results (no simulation): the collection step on its own. */
function fakeSweep(dir: string) {
  const s = sweep({ axes: { "hardware.synapticLanes": [2, 4, 8], "model.heads": [2, 3] }, objectives: ["cycles", "lanes"] });
  const pts = expandPoints(s);
  fs.mkdirSync(path.join(dir, "points"), { recursive: true });
  const cycles = [900, 700, 500];
  for (const p of pts) {
    const ok = !p.invalid;
    const m = Object.fromEntries(METRIC_NAMES.map((n) => [n, null])) as Record<string, number | null>;
    if (ok) {
      m.cycles = cycles[[2, 4, 8].indexOf(p.axes["hardware.synapticLanes"] as number)];
      m.lanes = p.axes["hardware.synapticLanes"] as number;
    }
    fs.writeFileSync(
      path.join(dir, "points", `${p.key}.json`),
      JSON.stringify({ st3d: "0.1.0", spec: pointSpec(s), index: p.index, key: p.key, label: p.label, axes: p.axes, workload: { density: 0.15, seed: 1 }, configHash: p.configHash ?? null, stages: s.stages, status: ok ? "ok" : "invalid", error: ok ? null : p.invalid, failedStage: null, metrics: m, files: { dir: null, report: ok ? `points/${p.key}/report/report.html` : null }, timing: { host: "h", startedAt: "t", seconds: { total: 1 } } }),
    );
  }
  return { s, pts };
}

describe("collected results", () => {
  it("one row per point with every metric (null when not computed), front per objectives", () => {
    const dir = tmp();
    const { s, pts } = fakeSweep(dir);
    const c = collectRows(s, pts, dir);
    expect(c.rows.length).toBe(6);
    expect(c.counts).toEqual({ ok: 3, invalid: 3, failed: 0, pending: 0 }); // heads 3 does not divide dim 8
    for (const r of c.rows) expect(Object.keys(r.metrics).sort()).toEqual([...METRIC_NAMES].sort());
    // cycles falls and lanes rise with synapticLanes: every valid point is a trade-off
    expect(c.rows.filter((r) => r.front).map((r) => r.index)).toEqual([0, 2, 4]);
    const csv = resultsCsv(s, c.rows).split("\r\n");
    expect(csv[0]).toBe(`index,key,status,hardware.synapticLanes,model.heads,density,seed,${METRIC_NAMES.join(",")},front,report,error`);
    expect(csv[2]).toMatch(/^1,x[0-9a-f]+-d0\.15-s1,invalid,2,3,0\.15,1,,/);
    expect(csv[2]).toMatch(/,false,,"invalid config of this point: model\.heads: heads must divide dim/);
  });
  it("a missing result is a pending row; timing stays out of results.jsonl", () => {
    const dir = tmp();
    const { s, pts } = fakeSweep(dir);
    fs.rmSync(path.join(dir, "points", `${pts[4].key}.json`));
    const c = writeCollected(s, pts, dir);
    expect(c.rows[4].status).toBe("pending");
    const jl = fs.readFileSync(path.join(dir, "results.jsonl"), "utf8");
    expect(jl.trim().split("\n").length).toBe(6);
    expect(jl).not.toMatch(/startedAt|seconds|"host"/);
    expect(fs.readFileSync(path.join(dir, "timing.jsonl"), "utf8")).toMatch(/"seconds"/);
  });
});

describe("sweep folder (output rule)", () => {
  it("is new, empty, or st3d's own sweep; anything else is refused", () => {
    const d = tmp();
    expect(checkSweepDir(path.join(d, "new")).state).toBe("new");
    fs.mkdirSync(path.join(d, "empty"));
    expect(checkSweepDir(path.join(d, "empty")).state).toBe("empty");
    fs.mkdirSync(path.join(d, "user"));
    fs.writeFileSync(path.join(d, "user", "thesis.tex"), "x");
    expect(() => checkSweepDir(path.join(d, "user"))).toThrow(/refusing to write a sweep into .*user: it holds files st3d did not write \(thesis\.tex\)/);
    const own = path.join(d, "own");
    const { s } = fakeSweep(own);
    writeSweepManifest(own, { design: s.name, digest: s.digest });
    expect(checkSweepDir(own).state).toBe("own");
    // temporaries of an interrupted run are st3d's; a user's file is not
    fs.mkdirSync(tempName(path.join(own, "points", "0123456789abcdef-d0.15-s1"), 99999999));
    expect(checkSweepDir(own).state).toBe("own");
    expect(removeStaleTemps(own).length).toBe(1);
    fs.writeFileSync(path.join(own, "points", "notes.txt"), "mine");
    expect(() => checkSweepDir(own)).toThrow(/holds files st3d did not write \(points\/notes\.txt\)/);
    fs.rmSync(path.join(own, "points", "notes.txt"));
    // an edited collected file: only with force
    writeCollected(s, expandPoints(s), own);
    fs.appendFileSync(path.join(own, "results.csv"), "edited\n");
    expect(() => checkSweepDir(own)).toThrow(/were edited since \(results\.csv\); pass --force/);
    expect(checkSweepDir(own, { force: true }).state).toBe("own");
    // a generate folder is not a sweep folder
    const gen = path.join(d, "gen");
    fs.mkdirSync(gen);
    fs.writeFileSync(path.join(gen, "st3d-manifest.json"), JSON.stringify({ generator: "st3d", design: "x", configHash: "y", tops: [], files: [] }));
    expect(() => checkSweepDir(gen)).toThrow(/written by 'st3d generate', not by 'st3d sweep'/);
  });
  it("knows every file kind st3d writes there", () => {
    expect(sweepFileKind("points/0123456789abcdef-d0.15-s1.json")).toBe("result");
    expect(sweepFileKind("points/0123456789abcdef-d0.15-s1/run/run.json")).toBe("point");
    expect(sweepFileKind("slurm/logs/12_3.log")).toBe("log");
    expect(sweepFileKind("slurm/sweep-2.sbatch")).toBe("slurm");
    expect(sweepFileKind("points/evil.json")).toBe(null);
    expect(sweepFileKind("results.jsonl")).toBe("report");
  });
  it("publishes a point folder whole, with its own manifest", () => {
    const d = tmp();
    const target = path.join(d, "points", "0123456789abcdef-d0.15-s1");
    for (const v of ["one", "two"]) {
      const st = tempName(target);
      fs.mkdirSync(st, { recursive: true });
      fs.writeFileSync(path.join(st, "log.txt"), v);
      commitPointDir(st, target, { design: "x", configHash: "0123456789abcdef" });
      expect(fs.existsSync(st)).toBe(false);
    }
    expect(fs.readFileSync(path.join(target, "log.txt"), "utf8")).toBe("two");
    expect(fs.readdirSync(path.join(d, "points"))).toEqual(["0123456789abcdef-d0.15-s1"]);
    expect(JSON.parse(fs.readFileSync(path.join(target, "st3d-manifest.json"), "utf8")).files.map((f: { path: string }) => f.path)).toEqual(["log.txt"]);
  });
});

describe("report stage (the 2D-vs-3D report plugs in)", () => {
  afterEach(() => setReportProvider(null));
  it("takes the metrics of the point's own view from report.json", () => {
    const rep = { views: { "2d": { footprintUm2: 10, fmaxMHz: 500, energyPerInferenceNj: 7 }, "3d": { footprintUm2: 6, fmaxMHz: 520, energyPerInferenceNj: 6, bonds: 100, bondBudget: null } } };
    expect(reportMetrics(rep, "2d")).toEqual({ footprintUm2: 10, fmaxMHz: 500, energyPerInferenceNj: 7 });
    expect(reportMetrics(rep, "memory-on-logic")).toEqual({ footprintUm2: 6, fmaxMHz: 520, energyPerInferenceNj: 6, bonds: 100, bondBudget: null });
    expect(reportMetrics({ views: [{ view: "auto", powerMw: 3 }] }, "auto")).toEqual({ powerMw: 3 });
    expect(() => reportMetrics({ views: {} }, "2d")).toThrow(/no view for integration mode '2d'/);
  });
  it("runs through the provider and links the point's report.html", async () => {
    setReportProvider({
      async run(r, o) {
        const json = { design: r.name, views: { "2d": { energyPerInferenceNj: 5, footprintUm2: 9 }, "3d": { energyPerInferenceNj: 4, footprintUm2: 6 } } };
        fs.writeFileSync(path.join(o.out, "report.json"), JSON.stringify(json));
        fs.writeFileSync(path.join(o.out, "report.html"), "<html></html>");
        expect(fs.existsSync(o.weights) && fs.existsSync(o.input)).toBe(true);
        return json;
      },
    });
    const s = sweep({ axes: { "integration.mode": ["2d", "memory-on-logic"] }, stages: ["report"], objectives: ["energyPerInferenceNj", "footprintUm2"] });
    const dir = tmp();
    const pts = expandPoints(s);
    const res = [];
    for (const p of pts) res.push(await runPoint(s, p, dir, { log: () => {} }));
    expect(res.map((r) => [r.status, r.metrics.energyPerInferenceNj, r.metrics.footprintUm2, r.metrics.cycles])).toEqual([
      ["ok", 5, 9, null],
      ["ok", 4, 6, null],
    ]);
    expect(res[1].files.report).toBe(`points/${pts[1].key}/report/report.html`);
    expect(fs.existsSync(path.join(dir, res[1].files.report!))).toBe(true);
    const c = writeCollected(s, pts, dir);
    expect(c.rows.map((r) => r.front)).toEqual([false, true]);
    expect(fs.readFileSync(path.join(dir, "sweep.html"), "utf8")).toContain(`href="points/${pts[1].key}/report/report.html"`);
  });
});

describe("report stage with st3d report (generator/report)", () => {
  it("a tiny point's report: the metrics of its own view and of the report's checked run, report.json as st3d report gives it", async () => {
    const s = sweep({ axes: { "integration.mode": ["memory-on-logic"] }, stages: ["report"], workload: { density: [0.15] }, objectives: ["energyPerInferenceNj", "footprintUm2"] });
    const dir = tmp();
    const [p] = expandPoints(s);
    const res = await runPoint(s, p, dir, { log: () => {} });
    expect(res.status, res.error ?? "").toBe("ok");
    const rdir = path.join(dir, res.files.dir!, "report");
    expect(fs.readdirSync(rdir).sort()).toEqual(["report.html", "report.json", "st3d-manifest.json", "timings.json"]);
    const rj = JSON.parse(fs.readFileSync(path.join(rdir, "report.json"), "utf8"));
    expect(Object.keys(rj.views)).toEqual(["2d", "memory-on-logic"]);
    const v = rj.views["memory-on-logic"];
    const m = res.metrics;
    expect([m.footprintUm2, m.siliconUm2, m.bonds, m.bondBudget, m.fmaxMHz, m.feffMHz, m.energyPerInferenceNj, m.powerMw, m.pjPerSop, m.memLatencyPs]).toEqual([
      v.footprintUm2, v.siliconUm2, v.bonds, v.bondBudget, v.fmaxMHz, v.feffMHz, v.energyPerInferenceNj, v.powerMw, v.pjPerSop, v.memLatencyPs,
    ]);
    for (const k of ["footprintUm2", "fmaxMHz", "energyPerInferenceNj", "bonds"] as const) expect(m[k]).toBeGreaterThan(0);
    const r = p.resolved!;
    expect([m.cycles, m.synapticOps, m.lanes]).toEqual([rj.model.cycles, rj.model.synapticOps, r.hw.poolLanes + r.hw.routerLanes]);
    expect(m.utilization).toBeCloseTo(rj.model.synapticOps / ((r.hw.poolLanes + r.hw.routerLanes) * rj.model.cycles), 12);
    expect(rj.model.matchesGolden).toBe(true);
    expect(res.files.report).toBe(`points/${p.key}/report/report.html`);
    // the same report as st3d report gives for the point's config and workload (cached: no second run)
    const again = await report(r, { density: 0.15, seed: 1, views: ["2d", "memory-on-logic"], command: rj.command, progress: false });
    expect(again.json).toEqual(rj);
  });
});

describe("Slurm job array", () => {
  it("has one task per configuration by default (its workloads share a build), or --chunk points per task", () => {
    const s = sweep({ axes: { "hardware.synapticLanes": [2, 4] }, workload: { density: [0.1, 0.2] } });
    const pts = expandPoints(s);
    const a = sbatchScript(s, "/abs/s.yaml", "/abs/out", pts, {}, "/abs/out/slurm/sweep-1.sbatch");
    expect(a.tasks).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(a.script).toContain('POINTS=("0-1" "2-3")');
    expect(a.script).toContain("#SBATCH --array=0-1\n");
    const b = sbatchScript(s, "/abs/s.yaml", "/abs/out", [pts[0], pts[2], pts[3]], { chunk: 2, maxParallel: 3, cpusPerTask: 2 }, "/x");
    expect(b.tasks).toEqual([[0, 2], [3]]);
    expect(b.script).toContain('POINTS=("0,2" "3")');
    expect(b.script).toContain("#SBATCH --array=0-1%3\n#SBATCH --output=/abs/out/slurm/logs/%A_%a.log\n#SBATCH --cpus-per-task=2\n");
    expect(() => sbatchScript(s, "/a", "/b", pts, { sbatchArgs: ["mem=4G"] }, "/x")).toThrow(/one sbatch option per --sbatch-arg, starting with '-'/);
    // a point's parallel steps (Yosys) use the task's CPUs
    expect(b.script).toContain('export ST3D_JOBS="${ST3D_JOBS:-${SLURM_CPUS_PER_TASK:-1}}"\n');
  });
  it("local workers share the cores out for their own parallel steps; a user's ST3D_JOBS wins", () => {
    const cores = os.availableParallelism();
    expect(workerJobs(1, {})).toBe(String(cores));
    expect(workerJobs(cores * 2, {})).toBe("1");
    expect(workerJobs(2, { ST3D_JOBS: "3" })).toBe("3");
    expect(workerJobs(2, { ST3D_JOBS: "x" })).toBe(String(Math.max(1, Math.floor(cores / 2))));
  });
});

describe("cycles stage", () => {
  it("simulates the assembled 3D tiers with view 3d: same cycles as the 2D top, output checked", async () => {
    const s = sweep({ axes: { "integration.mode": ["2d", "memory-on-logic"] }, cycles: { sim: "icarus", view: "3d" }, workload: { density: [0.3] } });
    const dir = tmp();
    const res = [];
    for (const p of expandPoints(s)) res.push(await runPoint(s, p, dir, { log: () => {} }));
    expect(res.map((r) => r.status)).toEqual(["ok", "ok"]);
    expect(res[1].metrics.cycles).toBe(res[0].metrics.cycles);
    const runs = res.map((r) => JSON.parse(fs.readFileSync(path.join(dir, r.files.dir!, "run", "run.json"), "utf8")));
    expect(runs.map((j) => j.view)).toEqual(["2d", "3d"]);
    // st3d run --check: U after every half of every block, the output and the counters
    for (const j of runs) expect(j.check.match).toBe(true);
    expect(runs[1].check.tensors.map((t: { tensor: string }) => t.tensor)).toContain("output");
    expect(fs.readFileSync(path.join(dir, res[1].files.dir!, "log.txt"), "utf8")).toMatch(/the icarus 3d run equals the golden model \(U after every half, output, counters\)/);
  });
});

describe("physical stage", () => {
  it("gives what st3d generate --physical reports: footprint, bonds, budget; the 2D die is the sum of the areas", async () => {
    const s = sweep({ axes: { "integration.mode": ["2d", "memory-on-logic"] }, stages: ["physical"], objectives: ["footprintUm2", "bonds"] });
    const dir = tmp();
    const pts = expandPoints(s);
    const res = [];
    for (const p of pts) res.push(await runPoint(s, p, dir, { log: () => {} }));
    expect(res.map((r) => r.status)).toEqual(["ok", "ok"]);
    const d = await designFor(pts[1].resolved!, { physical: true, progressLabel: false });
    const man = JSON.parse(d.files.find((f) => f.path === "3d/3d_manifest.json")!.content);
    const m = res[1].metrics;
    expect([m.footprintUm2, m.bonds, m.bondBudget, m.siliconUm2]).toEqual([man.footprintUm2, man.bonds, man.bondBudget, Number((man.tiers.bottom.areaUm2 + man.tiers.top.areaUm2).toFixed(1))]);
    const m2 = res[0].metrics;
    expect([m2.bonds, m2.bondBudget, m2.footprintUm2]).toEqual([0, null, m2.siliconUm2]);
    // the same modules on one die or two: every instance maps to the same area in both modes except
    // ctrl, whose ID register holds the config's hash (the mode is part of it), so the silicon
    // differs by exactly ctrl's difference
    const inst = [];
    for (const p of pts) inst.push((await acceleratorAreas(p.resolved!, synthConfig(p.resolved!, { progressLabel: false }))).areas.um2);
    expect([...inst[0].keys()]).toEqual([...inst[1].keys()]);
    for (const [k, a] of inst[0]) if (k !== "u_ctrl") expect(inst[1].get(k), k).toBe(a);
    const dCtrl = inst[0].get("u_ctrl")! - inst[1].get("u_ctrl")!;
    expect(Math.abs(dCtrl) / inst[0].get("u_ctrl")!).toBeLessThan(0.02);
    expect(Math.abs(m2.siliconUm2! - m.siliconUm2! - dCtrl)).toBeLessThan(0.2);
    expect(m.footprintUm2!).toBeLessThan(m2.footprintUm2!);
    const pj = JSON.parse(fs.readFileSync(path.join(dir, res[1].files.dir!, "physical.json"), "utf8"));
    expect(pj.assumptions.length).toBeGreaterThan(3);
    expect(pj.library).toBe("osu018_stdcells");
  });
});

describe.runIf(chromiumAvailable())("sweep.html", () => {
  it("opens in headless Chromium: one mark per point with values, the front highlighted, no error, no request", async () => {
    const dir = tmp();
    const { s, pts } = fakeSweep(dir);
    writeCollected(s, pts, dir);
    const f = path.join(dir, "sweep.html");
    const res = await checkPage(f, ["svg.scatter", "circle.point", "circle.point.front", "a circle.point", "table"]);
    expect(res.errors).toEqual([]);
    expect(res.external).toEqual([]);
    expect(res.counts).toEqual({ "svg.scatter": 1, "circle.point": 3, "circle.point.front": 3, "a circle.point": 3, table: 5 });
    expect(res.title).toBe("st3d sweep sweep");
  });
});
