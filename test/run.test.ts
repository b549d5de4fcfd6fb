/**
 * `st3d run` on the st3d cache, and its debugging options (docs/RUN.md):
 *   - three Verilator and two Icarus runs of one config started at once on a cold cache all
 *     succeed with identical outputs (one build each, published atomically; the others wait);
 *   - a cache entry truncated on purpose is detected by its hashes and rebuilt;
 *   - --check on a deliberately wrong weight file names the first mismatching value (tensor,
 *     index, block, half) and counts the mismatches; on the right weights it passes;
 *   - --waves writes a waveform that opens (Icarus VCD header parsed; Verilator's FST read by
 *     GTKWave's fst2vcd), limited to a cycle window when asked;
 *   - --keep leaves a replay script that reproduces the simulation.
 * The cache is a fresh temporary ST3D_CACHE (cold), shared by the tests of this file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { readNpy, writeNpy } from "../generator/util/npy.ts";
import { cutVcd, cycleTime, fstToVcdText, parseVcd, vcdToFst, VcdError } from "../generator/run/waves.ts";

const ST3D = path.resolve("bin/st3d.js");
const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-run-cache-"));
const ENV = { ST3D_CACHE: CACHE, ST3D_PROGRESS: "plain" };
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `st3d-run-${p}-`));
const st3d = (args: string[]) => execa("node", [ST3D, ...args], { reject: false, all: true, env: ENV });
const r = resolve(loadConfig("tiny"));

let m: string; // random model folder
let gold: number[]; // golden output
const runArgs = (out: string, ...extra: string[]) => ["run", "-c", "tiny", "-w", `${m}/weights`, "-i", `${m}/input.npy`, "-o", out, ...extra];

beforeAll(async () => {
  m = path.join(tmp("m"), "m");
  const a = await st3d(["random-model", "tiny", "--seed", "3", "--density", "0.25", "-o", m]);
  expect(a.exitCode, a.all).toBe(0);
  const g = path.join(tmp("g"), "g");
  const b = await st3d(runArgs(g, "--golden"));
  expect(b.exitCode, b.all).toBe(0);
  gold = readNpy(path.join(g, "output.npy")).data;
});

describe("st3d run on the cache", () => {
  it("3 Verilator and 2 Icarus runs of one config at once on a cold cache: all succeed, identical outputs, never silent > 5 s", async () => {
    const sims = ["verilator", "verilator", "verilator", "icarus", "icarus"];
    const base = tmp("conc");
    const gaps: number[] = [];
    const runs = await Promise.all(
      sims.map(async (sim, i) => {
        const p = execa("node", [ST3D, ...runArgs(path.join(base, `o${i}`), "--sim", sim)], { reject: false, all: true, env: ENV });
        if (i === 0) {
          let last = Date.now();
          p.stderr?.on("data", () => {
            gaps.push(Date.now() - last);
            last = Date.now();
          });
        }
        return p;
      }),
    );
    runs.forEach((res, i) => expect(res.exitCode, `${sims[i]} #${i}\n${res.all}`).toBe(0));
    const outs = sims.map((_, i) => fs.readFileSync(path.join(base, `o${i}`, "output.npy")));
    for (const o of outs) expect(o.equals(outs[0])).toBe(true);
    expect(readNpy(path.join(base, "o0", "output.npy")).data).toEqual(gold);
    const cycles = sims.map((_, i) => JSON.parse(fs.readFileSync(path.join(base, `o${i}`, "run.json"), "utf8")).cycles);
    expect(new Set(cycles).size).toBe(1);
    // one published entry per simulator, no temporary, no lock left; messages name the real cache path
    const names = fs.readdirSync(path.join(CACHE, "sim")).sort();
    expect(names.map((n) => n.replace(/-[0-9a-f]+$/, ""))).toEqual(["icarus", "verilator"]);
    for (const res of runs) expect(res.all).toContain(path.join(CACHE, "sim"));
    expect(runs.map((x) => x.all).join("\n")).toMatch(/waiting for st3d process \d+, which is building/);
    expect(Math.max(...gaps.slice(1)), `stderr gaps ${gaps}`).toBeLessThan(6500);
  });

  it("a cache entry truncated on purpose is detected and rebuilt", async () => {
    const entry = fs.readdirSync(path.join(CACHE, "sim")).find((n) => n.startsWith("icarus-"))!;
    const vvp = path.join(CACHE, "sim", entry, "sim.vvp");
    const size = fs.statSync(vvp).size;
    fs.truncateSync(vvp, Math.floor(size / 2));
    const out = path.join(tmp("trunc"), "o");
    const res = await st3d(runArgs(out, "--sim", "icarus"));
    expect(res.exitCode, res.all).toBe(0);
    expect(res.all).toContain(`cache entry ${path.join(CACHE, "sim", entry)} is incomplete or corrupt (sim.vvp does not match its recorded sha256 (truncated or changed)): rebuilding it`);
    expect(fs.statSync(vvp).size).toBe(size);
    expect(readNpy(path.join(out, "output.npy")).data).toEqual(gold);
  });
});

describe("st3d run --check", () => {
  /** a copy of the weights with one bias changed by +5 */
  const wrong = (tensor: string, c: number) => {
    const dir = path.join(tmp("bad"), "weights");
    fs.cpSync(`${m}/weights`, dir, { recursive: true });
    const f = path.join(dir, `${tensor}.npy`);
    const a = readNpy(f);
    a.data[c] += 5;
    writeNpy(f, a.shape, a.data, "<i2");
    return dir;
  };
  for (const [sim, tensor, c, block] of [
    ["icarus", "blocks.0.o.bias", 3, 0],
    ["verilator", "blocks.1.o.bias", 5, 1],
  ] as const) {
    it(`${sim}: a deliberately wrong weight file: the first mismatching value by tensor, index, block, half, and the count`, async () => {
      const bad = wrong(tensor, c);
      const out = path.join(tmp("chk"), "o");
      const res = await st3d(["run", "-c", "tiny", "-w", bad, "-i", `${m}/input.npy`, "-o", out, "--sim", sim, "--check", `${m}/weights`]);
      expect(res.exitCode, res.all).toBe(1);
      const msg = new RegExp(
        `check: FAILED — first mismatch in blocks\\.${block}\\.u1\\[0,0,${c}\\] \\(block ${block}, attention half \\(LIF_a, q, k, v, attention, o, membrane shortcut\\)\\): RTL (-?\\d+), golden (-?\\d+); ${r.T * r.N} of ${r.T * r.N * r.D} values of blocks\\.${block}\\.u1 differ`,
      );
      expect(res.all).toMatch(msg);
      const [, rtl, golden] = msg.exec(res.all!)!;
      expect(Number(rtl) - Number(golden)).toBe(5);
      const j = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
      expect(j.status).toBe("check-failed");
      expect(j.check.first).toMatchObject({ tensor: `blocks.${block}.u1`, index: [0, 0, c], block, count: r.T * r.N });
      expect(j.check.tensors.filter((t: { mismatches: number }) => t.mismatches === 0).map((t: { tensor: string }) => t.tensor)).toEqual(block === 1 ? ["blocks.0.u1", "blocks.0.u2"] : []);
      // the results of the run are there to look at
      expect(fs.existsSync(path.join(out, "output.npy"))).toBe(true);
    });
    it(`${sim}: the right weights pass the check`, async () => {
      const out = path.join(tmp("chk"), "o");
      const res = await st3d([...runArgs(out, "--sim", sim, "--check")]);
      expect(res.exitCode, res.all).toBe(0);
      const j = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
      expect(j.check.match).toBe(true);
      expect(j.check.tensors.map((t: { tensor: string }) => t.tensor)).toEqual(["blocks.0.u1", "blocks.0.u2", "blocks.1.u1", "blocks.1.u2", "output"]);
      expect(j.check.counters.every((x: { match: boolean }) => x.match)).toBe(true);
    });
  }
});

describe("st3d run --waves / --keep", () => {
  const expectWindow = (h: ReturnType<typeof parseVcd>, from: number, to: number | null) => {
    expect(h.vars.map((v) => v.name)).toEqual(expect.arrayContaining(["clk", "host_req_valid", "busy"]));
    expect(h.firstTime!).toBeGreaterThanOrEqual(cycleTime(from, h.timescaleFs));
    expect(h.firstTime!).toBeLessThan(cycleTime(from + 2, h.timescaleFs));
    if (to !== null) {
      expect(h.lastTime!).toBeLessThanOrEqual(cycleTime(to + 1, h.timescaleFs));
      expect(h.lastTime!).toBeGreaterThan(cycleTime(to - 1, h.timescaleFs));
    }
  };
  it("Icarus: a VCD limited to a cycle window whose header parses", async () => {
    const out = path.join(tmp("w"), "o");
    const res = await st3d(runArgs(out, "--sim", "icarus", "--waves", "--waves-window", "600:700"));
    expect(res.exitCode, res.all).toBe(0);
    expect(res.all).toMatch(/results in .*: output\.npy, run\.json, waves\.vcd/);
    expectWindow(parseVcd(fs.readFileSync(path.join(out, "waves.vcd"), "utf8")), 600, 700);
    expect(readNpy(path.join(out, "output.npy")).data).toEqual(gold);
  });
  it("Verilator: an FST read by GTKWave's fst2vcd, from a start cycle", async () => {
    // (one traced Verilator build; the window end on Verilator — a cut VCD, and an FST made from
    // it with vcd2fst — is covered below on a synthetic dump, to keep CI time down)
    const out = path.join(tmp("wv"), "fst");
    const c = await st3d(runArgs(out, "--waves", "fst", "--waves-window", "650:"));
    expect(c.exitCode, c.all).toBe(0);
    const h = parseVcd(await fstToVcdText(path.join(out, "waves.fst")));
    const j = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
    expectWindow(h, 650, null);
    expect(h.lastTime!).toBeGreaterThanOrEqual(cycleTime(j.simulatedCycles - 1, h.timescaleFs));
    expect(j.waves).toEqual({ file: "waves.fst", format: "fst", fromCycle: 650, toCycle: null });
    expect(readNpy(path.join(out, "output.npy")).data).toEqual(gold);
  });
  it("--keep: the build, the host command file and a replay script that reproduces the run", async () => {
    const out = path.join(tmp("k"), "o");
    const res = await st3d(runArgs(out, "--sim", "icarus", "--keep"));
    expect(res.exitCode, res.all).toBe(0);
    const dbg = path.join(out, "debug");
    for (const f of ["replay.sh", "build.sh", "sim.vvp", "host.cmd", "host.out", "trace.txt", "sim.log", "README.txt", `src/${r.name}_host_tb.v`]) expect(fs.existsSync(path.join(dbg, f)), f).toBe(true);
    const rep = await execa(path.join(dbg, "replay.sh"), [], { reject: false, all: true });
    expect(rep.exitCode, rep.all).toBe(0);
    expect(rep.all).toMatch(/^PASS /m);
    expect(fs.readFileSync(path.join(dbg, "host.out.replay"), "utf8")).toBe(fs.readFileSync(path.join(dbg, "host.out"), "utf8"));
    // build.sh rebuilds the same simulation from the kept sources
    const b = await execa(path.join(dbg, "build.sh"), [], { reject: false, all: true });
    expect(b.exitCode, b.all).toBe(0);
  });
  it("a simulation that fails (here: --max-cycles) with --keep/--waves leaves run.json, the waves and debug/ to look at", async () => {
    const out = path.join(tmp("fail"), "o");
    const res = await st3d(runArgs(out, "--sim", "icarus", "--keep", "--waves", "--max-cycles", "700"));
    expect(res.exitCode).toBe(1);
    expect(res.all).toMatch(/the icarus simulation did not finish/);
    expect(res.all).toMatch(/FAIL .*more than 700 cycles/);
    expect(res.all).toContain(`are in ${out}`);
    const j = JSON.parse(fs.readFileSync(path.join(out, "run.json"), "utf8"));
    expect(j.status).toBe("sim-failed");
    expect(j.error).toMatch(/more than 700 cycles/);
    expect(fs.existsSync(path.join(out, "output.npy"))).toBe(false);
    expect(fs.existsSync(path.join(out, "debug", "replay.sh"))).toBe(true);
    expect(parseVcd(fs.readFileSync(path.join(out, "waves.vcd"), "utf8")).lastTime!).toBeGreaterThan(cycleTime(690, 1000));
    // without --keep or --waves: nothing is written
    const out2 = path.join(tmp("fail"), "o");
    const res2 = await st3d(runArgs(out2, "--sim", "icarus", "--max-cycles", "700"));
    expect(res2.exitCode).toBe(1);
    expect(fs.existsSync(out2)).toBe(false);
  });
  it("bad window arguments are clear errors", async () => {
    for (const [args, msg] of [
      [["--waves-window", "5:9"], /--waves-window needs --waves/],
      [["--waves", "--waves-window", "9:5"], /ends \(cycle 5\) before it starts \(cycle 9\)/],
      [["--waves", "--waves-window", "x"], /--waves-window must be <from>:<to>/],
      [["--golden", "--keep"], /need an RTL simulation/],
    ] as const) {
      const res = await st3d(runArgs(path.join(tmp("bw"), "o"), ...args));
      expect(res.exitCode).not.toBe(0);
      expect(res.all).toMatch(msg);
      expect(res.all).not.toMatch(/internal error/);
    }
  });
});

describe("VCD helpers", () => {
  it("cutVcd drops everything after the window end; parseVcd refuses what is not a VCD", async () => {
    const f = path.join(tmp("vcd"), "w.vcd");
    const body = Array.from({ length: 10 }, (_, c) => `#${c * 10000}\n${c & 1}!\n#${c * 10000 + 5000}\n${(c + 1) & 1}!`).join("\n");
    fs.writeFileSync(f, `$timescale 1ps $end\n$scope module tb $end\n$var wire 1 ! clk $end\n$upscope $end\n$enddefinitions $end\n${body}\n`);
    await cutVcd(f, 3);
    const h = parseVcd(fs.readFileSync(f, "utf8"));
    expect(h.lastTime).toBe(cycleTime(4, h.timescaleFs));
    // and through GTKWave's converters, as `--waves fst --waves-window a:b` does on Verilator
    const fst = f.replace(/\.vcd$/, ".fst");
    await vcdToFst(f, fst);
    const back = parseVcd(await fstToVcdText(fst));
    expect([back.firstTime, back.lastTime]).toEqual([0, cycleTime(4, back.timescaleFs)]);
    expect(back.vars.map((v) => v.name)).toEqual(["clk"]);
    for (const bad of ["hello", "$timescale 1ps $end $enddefinitions $end", "$scope module a $end $var wire 1 ! x $end $enddefinitions $end"]) expect(() => parseVcd(bad)).toThrow(VcdError);
  });
});
