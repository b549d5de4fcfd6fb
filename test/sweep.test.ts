/**
 * `st3d sweep` as a user runs it: a 4-point sweep of the tiny preset (sweeps/tiny-4.yaml, the
 * cycles stage on Icarus with the output checked against the golden model) on the local worker
 * pool — interrupted and resumed, with a failing point retried — and through a real
 * single-node Slurm cluster started from Debian's slurm-wlm and munge by
 * scripts/slurm/local-cluster.sh: every way gives the same results.jsonl, byte for byte.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ST3D = path.resolve("bin/st3d.js");
const SWEEP = path.resolve("sweeps/tiny-4.yaml");
const CLUSTER = path.resolve("scripts/slurm/local-cluster.sh");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-sweep-"));
// a private TMPDIR: st3d run simulates in a private folder under it, which an interrupted point must remove too
const env = { ST3D_PROGRESS: "plain", ST3D_CACHE: path.join(root, "cache"), TMPDIR: path.join(root, "tmp") };
fs.mkdirSync(env.TMPDIR);
const runTemps = () => fs.readdirSync(env.TMPDIR).filter((n) => n.startsWith("st3d-"));
const sweep = (args: string[], extra: Record<string, string> = {}) => execa("node", [ST3D, "sweep", SWEEP, ...args], { reject: false, all: true, env: { ...process.env, ...env, ...extra } });
const read = (f: string) => fs.readFileSync(f, "utf8");

/** Every name under dir that is a temporary (st3d's are hidden `.…tmp-…`). */
function temps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (/\.tmp-|^\.tmp/.test(e.name)) out.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(dir);
  return out;
}

const resultFiles = (dir: string) =>
  fs
    .readdirSync(path.join(dir, "points"))
    .filter((f) => f.endsWith(".json"))
    .sort();

let ref = "";
beforeAll(async () => {
  ref = path.join(root, "ref");
  const r = await sweep(["-o", ref, "-j", "2"]);
  expect(r.exitCode, r.all).toBe(0);
});

describe("st3d sweep on this machine", () => {
  it("runs every point and writes results.jsonl, results.csv, pareto.json and sweep.html", async () => {
    const rows = read(path.join(ref, "results.jsonl"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.index, r.status, r.axes["hardware.synapticLanes"], r.axes["integration.mode"]])).toEqual([
      [0, "ok", 4, "2d"],
      [1, "ok", 4, "memory-on-logic"],
      [2, "ok", 8, "2d"],
      [3, "ok", 8, "memory-on-logic"],
    ]);
    for (const r of rows) {
      expect(r.metrics.cycles).toBeGreaterThan(0);
      expect(r.metrics.utilization).toBeGreaterThan(0);
      expect(r.metrics.footprintUm2).toBe(null); // no physical stage in this sweep
      expect(fs.existsSync(path.join(ref, r.files.dir, "run", "run.json"))).toBe(true);
    }
    // the integration mode does not change the schedule: the 3D tiers are cycle-equivalent to the 2D top
    expect(rows[0].metrics.cycles).toBe(rows[1].metrics.cycles);
    expect(rows[2].metrics.cycles).toBeLessThan(rows[0].metrics.cycles); // more lanes, fewer cycles
    expect(read(path.join(ref, "results.csv")).split("\r\n")[0]).toMatch(/^index,key,status,hardware\.synapticLanes,integration\.mode,density,seed,cycles,utilization,/);
    expect(JSON.parse(read(path.join(ref, "pareto.json"))).groups[0].front.map((f: { index: number }) => f.index)).toEqual(rows.filter((r) => r.front).map((r) => r.index));
    expect(read(path.join(ref, "sweep.html"))).toMatch(/<circle class="point front"/);
    expect(read(path.join(ref, "results.jsonl"))).not.toMatch(/seconds|startedAt|"host"|\/tmp\//);
  });

  it("a re-run runs nothing and changes no result", async () => {
    const before = resultFiles(ref).map((f) => [f, fs.statSync(path.join(ref, "points", f)).mtimeMs]);
    const jl = read(path.join(ref, "results.jsonl"));
    const r = await sweep(["-o", ref]);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toMatch(/every one of the 4 points already has a result/);
    expect(resultFiles(ref).map((f) => [f, fs.statSync(path.join(ref, "points", f)).mtimeMs])).toEqual(before);
    expect(read(path.join(ref, "results.jsonl"))).toBe(jl);
  });

  it("Ctrl-C midway leaves nothing half-written; the re-run does only the missing points and gives the same results", async () => {
    const dir = path.join(root, "int");
    // point 1 blocks in a synchronous child process (like a long Yosys run) until it is killed
    const c = sweep(["-o", dir, "-j", "1"], { ST3D_SWEEP_BLOCK: "1" });
    const t0 = Date.now();
    // wait until point 0 is done and point 1 has written its random model (it then blocks)
    const inStage = () => {
      if (!fs.existsSync(path.join(dir, "points")) || resultFiles(dir).length < 1) return false;
      const key1 = JSON.parse(read(path.join(dir, "sweep.json"))).points[1].key;
      return fs.readdirSync(path.join(dir, "points")).some((n) => n.startsWith(`.${key1}-model.tmp-`) && fs.existsSync(path.join(dir, "points", n, "input.npy")));
    };
    for (let i = 0; i < 1200 && !inStage(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(inStage()).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    c.kill("SIGINT");
    const r = await c;
    expect(r.exitCode, r.all).toBe(130);
    expect(Date.now() - t0).toBeLessThan(60_000); // the blocked point was killed, not waited for
    expect(r.all).toMatch(/sweep interrupted: 1 of 4 points have a result/);
    const k = 1;
    expect(temps(dir)).toEqual([]);
    expect(temps(env.ST3D_CACHE)).toEqual([]);
    expect(runTemps()).toEqual([]);
    const kept = resultFiles(dir).map((f) => [f, read(path.join(dir, "points", f)), fs.statSync(path.join(dir, "points", f)).mtimeMs]);
    expect(kept.length).toBe(k);
    for (const [, body] of kept) expect(JSON.parse(body as string).status).toBe("ok");
    const again = await sweep(["-o", dir, "-j", "2"]);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toContain(`${k} already have a result; running ${4 - k} `);
    for (const [f, body, mtime] of kept) {
      expect(read(path.join(dir, "points", f as string))).toBe(body);
      expect(fs.statSync(path.join(dir, "points", f as string)).mtimeMs).toBe(mtime);
    }
    expect(read(path.join(dir, "results.jsonl"))).toBe(read(path.join(ref, "results.jsonl")));
    expect(read(path.join(dir, "results.csv"))).toBe(read(path.join(ref, "results.csv")));
  });

  it("a failed point is listed with its log, kept on a plain re-run, and redone by --retry-failed", async () => {
    const dir = path.join(root, "fail");
    const r = await sweep(["-o", dir, "-j", "2"], { ST3D_SWEEP_FAIL: "1" });
    expect(r.exitCode).toBe(1);
    expect(r.all).toMatch(/1 point\(s\) failed:\n {2}#1 hardware\.synapticLanes=4, integration\.mode=memory-on-logic.*ST3D_SWEEP_FAIL asks point 1 to fail \(log (.*log\.txt)\)/);
    const log = /\(log (\S+log\.txt)\)/.exec(r.all ?? "")![1];
    expect(read(log)).toMatch(/failed in the cycles stage/);
    expect(r.all).toMatch(/run them again: st3d sweep .* --retry-failed/);
    const plain = await sweep(["-o", dir]);
    expect(plain.exitCode).toBe(1);
    expect(plain.all).toMatch(/every one of the 4 points already has a result in \S+ \(--retry-failed runs the failed ones again\)/);
    const retry = await sweep(["-o", dir, "--retry-failed"]);
    expect(retry.exitCode, retry.all).toBe(0);
    expect(retry.all).toMatch(/3 already have a result; running 1 /);
    expect(read(path.join(dir, "results.jsonl"))).toBe(read(path.join(ref, "results.jsonl")));
  });

  it("a worker that dies is recorded as failed with why, its temporaries removed", async () => {
    const dir = path.join(root, "dead");
    const c = sweep(["-o", dir, "-j", "1"], { ST3D_SWEEP_BLOCK: "0" });
    // the worker's staging folder names its pid: .<key>.tmp-<host>-<pid>-<random>
    let pid = 0;
    for (let i = 0; i < 1200 && !pid; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const names = fs.existsSync(path.join(dir, "points")) ? fs.readdirSync(path.join(dir, "points")) : [];
      const m = names.map((n) => /-model\.tmp-.+-(\d+)-[0-9a-f]{8}$/.exec(n)).find(Boolean);
      if (m && fs.existsSync(path.join(dir, "points", m.input!, "input.npy"))) pid = Number(m[1]);
    }
    expect(pid).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(-pid, "SIGKILL");
    const r = await c;
    expect(r.exitCode, r.all).toBe(1);
    expect(r.all).toMatch(/#0 failed: its process ended \(signal SIGKILL\) without a result/);
    expect(r.all).toMatch(/4 points — 3 ok, 0 invalid, 1 failed/);
    const row = JSON.parse(read(path.join(dir, "results.jsonl")).split("\n")[0]);
    expect([row.status, row.error]).toEqual(["failed", "the point's process ended (signal SIGKILL) without writing a result"]);
    expect(temps(dir)).toEqual([]);
  });

  it("refuses a folder that holds someone else's files, and a sweep file with errors", async () => {
    const dir = path.join(root, "user");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    const r = await sweep(["-o", dir]);
    expect(r.exitCode).toBe(1);
    expect(r.all).toMatch(/st3d: refusing to write a sweep into .*user: it holds files st3d did not write \(notes\.txt\)/);
    expect(fs.readdirSync(dir)).toEqual(["notes.txt"]);
    const bad = path.join(root, "bad.yaml");
    fs.writeFileSync(bad, "base: tiny\naxes:\n  hardware.lanes: [1, 2]\n");
    const b = await execa("node", [ST3D, "sweep", bad, "-o", path.join(root, "never")], { reject: false, all: true });
    expect(b.exitCode).toBe(1);
    expect(b.all).toMatch(/st3d: invalid sweep .*bad\.yaml: axes\["hardware\.lanes"\]: not a config field .*did you mean hardware\.synapticLanes\?/);
    expect(fs.existsSync(path.join(root, "never"))).toBe(false);
  });
});

describe("st3d sweep --slurm on a real single-node Slurm (slurm-wlm + munge, scripts/slurm/local-cluster.sh)", () => {
  const cl = path.join(root, "slurm");
  const senv = { SLURM_CONF: path.join(cl, "slurm.conf") };
  beforeAll(async () => {
    const r = await execa("bash", [CLUSTER, "start", cl], { reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toBe(`export SLURM_CONF=${cl}/slurm.conf`);
  }, 120_000);
  afterAll(async () => {
    const r = await execa("bash", [CLUSTER, "stop", cl], { reject: false, all: true });
    expect(r.exitCode, r.all).toBe(0);
    const st = await execa("bash", [CLUSTER, "status", cl], { reject: false, all: true });
    expect(st.stdout).toBe("slurmd: stopped\nslurmctld: stopped\nmunged: stopped");
  }, 120_000);

  it("--dry-run prints the job-array script and writes nothing", async () => {
    const dir = path.join(root, "dry");
    const r = await sweep(["-o", dir, "--slurm", "--dry-run", "--partition", "debug", "--time", "5:00", "--cpus-per-task", "1", "--sbatch-arg=--mem=500M", "--chunk", "2"], senv);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toMatch(/^#!\/bin\/bash\n/);
    for (const l of ["#SBATCH --array=0-1", `#SBATCH --output=${dir}/slurm/logs/%A_%a.log`, "#SBATCH --partition=debug", "#SBATCH --time=5:00", "#SBATCH --mem=500M", 'POINTS=("0-1" "2-3")'])
      expect(r.stdout).toContain(l);
    expect(r.stdout).toMatch(/sweep \S*tiny-4\.yaml -o \S+dry --point "\$\{POINTS\[\$SLURM_ARRAY_TASK_ID\]\}"/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("Ctrl-C while following cancels the job and keeps the finished points", async () => {
    const dir = path.join(root, "slurmint");
    // point 0 blocks until it is killed; the others finish
    const c = sweep(["-o", dir, "--slurm"], { ...senv, ST3D_SWEEP_BLOCK: "0" });
    const done = () => (fs.existsSync(path.join(dir, "points")) ? resultFiles(dir).length : 0);
    for (let i = 0; i < 1200 && done() < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(done()).toBe(3);
    c.kill("SIGINT");
    const r = await c;
    expect(r.exitCode, r.all).toBe(130);
    expect(r.all).toMatch(/cancelling job (\d+) \(scancel\)/);
    expect(r.all).toMatch(/sweep interrupted: 3 of 4 points have a result/);
    const job = /cancelling job (\d+)/.exec(r.all ?? "")![1];
    // the task is gone from the queue, and left no temporary behind
    for (let i = 0; i < 100; i++) {
      const q = await execa("squeue", ["-h", "-j", job], { reject: false, env: { ...process.env, ...senv } });
      if (!q.stdout.trim()) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect((await execa("squeue", ["-h", "-j", job], { reject: false, env: { ...process.env, ...senv } })).stdout.trim()).toBe("");
    expect(temps(dir)).toEqual([]);
  });

  it("gives the local run's results.jsonl; a failed task is listed with its log and resubmitted alone", async () => {
    const dir = path.join(root, "onslurm");
    // point 2 fails on the cluster (test hook): its task is reported with its log
    const r = await sweep(["-o", dir, "--slurm"], { ...senv, ST3D_SWEEP_FAIL: "2" });
    expect(r.exitCode, r.all).toBe(1);
    const m = /1 of 4 Slurm task\(s\) of job (\d+) did not finish their points:\n {2}task 2 \(point 2\): failed in cycles: ST3D_SWEEP_FAIL asks point 2 to fail\n {4}log: (\S+)\nresubmit them alone: sbatch --array=2 (\S+)/.exec(r.all ?? "");
    expect(m, r.all).not.toBe(null);
    const [, job, log, script] = m!;
    expect(log).toBe(`${dir}/slurm/logs/${job}_2.log`);
    expect(read(log)).toMatch(/st3d sweep task 2 .*points 2\n[\s\S]*point 2 failed: ST3D_SWEEP_FAIL asks point 2 to fail/);
    expect(script).toBe(`${dir}/slurm/sweep-1.sbatch`);
    // resubmit that task alone, exactly as the message says, then collect
    const again = await execa("sbatch", ["--wait", "--array=2", script], { reject: false, all: true, env: { ...process.env, ...env, ...senv } });
    expect(again.exitCode, again.all).toBe(0);
    const col = await sweep(["-o", dir, "--collect"], senv);
    expect(col.exitCode, col.all).toBe(0);
    expect(col.all).toMatch(/4 points — 4 ok, 0 invalid, 0 failed/);
    expect(read(path.join(dir, "results.jsonl"))).toBe(read(path.join(ref, "results.jsonl")));
    expect(read(path.join(dir, "results.csv"))).toBe(read(path.join(ref, "results.csv")));
    // the cluster ran the points: timing.jsonl says where, results.jsonl does not
    expect(read(path.join(dir, "timing.jsonl"))).toMatch(/"host"/);
    expect(temps(dir)).toEqual([]);
  });
});

