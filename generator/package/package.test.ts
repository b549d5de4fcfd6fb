/**
 * IP packaging (docs/IP.md): the FuseSoC core is well-formed CAPI2 YAML whose filesets match the
 * design's files and filelists; the filelists are complete (every top lints from its own list)
 * and never mix behavioral macro models with stubs; the packaged host testbench runs from
 * filelists/tb.f; and the lifArray's THRESHOLD / TAU_SHIFT parameters really can be overridden
 * after generation, on both simulators, bit exact against the golden model at the new values.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config/load.ts";
import { resolve, resolveInput, type ResolvedLif } from "../config/resolve.ts";
import { buildDesign, type Design } from "../design.ts";
import { slit } from "../render/verilog.ts";
import { verilatorLint } from "../toolchain/verilator.ts";
import { which } from "../toolchain/tools.ts";
import { icarusBuild, icarusRun } from "../toolchain/icarus.ts";
import { buildDir, buildSim, runSim, runSimExpectPass, SIMS } from "../sim/harness.ts";
import { lifArrayParams, renderLifArray } from "../blocks/lifArray/lifArray.ts";
import { renderLifTb, writeLifStimulus, type LifTbInstance } from "../blocks/lifArray/testbench.ts";
import { coreFile, coreVlnv, filesForTop, hostTbModule, hostTbPath, packageFiles, readFilelist, simSources, synthSources } from "./package.ts";
import type { GeneratedFile } from "../core/files.ts";

const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-pkg-"));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
const lines = readFilelist;
const fileOf = (d: Design, p: string) => d.files.find((f) => f.path === p)!;

function writeDesign(d: Design, dir: string): void {
  for (const f of d.files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), f.content);
  }
}

describe("FuseSoC core and filelists", () => {
  const designs: Record<string, Design> = { tiny: buildDesign(resolve(loadConfig("tiny"))), default: buildDesign(resolve(loadConfig("default"))) };

  for (const [label, d] of Object.entries(designs)) {
    it(`${label}: <name>.core is CAPI2 YAML with the expected filesets and targets`, () => {
      const r = d.r;
      const text = fileOf(d, coreFile(r.name)).content;
      expect(text.split("\n")[0]).toBe("CAPI=2:");
      const core = YAML.parse(text);
      expect(Object.keys(core)).toEqual(["CAPI=2", "name", "description", "filesets", "parameters", "targets"]);
      expect(core.name).toBe(coreVlnv(r));
      expect(core.name).toMatch(/^st3d:design:[A-Za-z][A-Za-z0-9_]*:\d+\.\d+\.\d+$/);
      expect(core.description).toContain(r.hash);
      expect(Object.keys(core.filesets).sort()).toEqual(["rtl", "sim", "stubs", "synth_tcl", "tb"]);
      const paths = new Set(d.files.map((f) => f.path));
      const kind = new Map(d.files.map((f) => [f.path, f.kind]));
      for (const [name, fs_] of Object.entries(core.filesets) as [string, { files: string[]; file_type: string }][]) {
        expect(fs_.file_type, name).toBe(name === "synth_tcl" ? "tclSource" : "verilogSource-2005");
        expect(fs_.files.length, name).toBeGreaterThan(0);
        for (const f of fs_.files) expect(paths.has(f), `${name}: ${f}`).toBe(true);
        const want = { rtl: "rtl", stubs: "stub", sim: "sim", tb: "tb", synth_tcl: "data" }[name];
        for (const f of fs_.files) expect(kind.get(f), `${name}: ${f}`).toBe(want);
      }
      // rtl + sim models = sim.f, rtl + stubs = synth.f (as sets), and every .v file is in some fileset
      const set = (...names: string[]) => new Set(names.flatMap((n) => core.filesets[n].files as string[]));
      expect(set("rtl", "sim")).toEqual(new Set(lines(fileOf(d, "filelists/sim.f").content)));
      expect(set("rtl", "stubs")).toEqual(new Set(lines(fileOf(d, "filelists/synth.f").content)));
      expect(set("rtl", "sim", "stubs", "tb")).toEqual(new Set(d.files.filter((f) => f.path.endsWith(".v")).map((f) => f.path)));
      // targets
      const top = `${r.name}_top`;
      expect(Object.keys(core.targets)).toEqual(["default", "lint", "sim", "synth", ...d.tops.slice(1).flatMap((t) => [`lint_${t}`, `synth_${t}`])]);
      for (const t of d.tops.slice(1)) {
        expect(core.targets[`lint_${t}`]).toMatchObject({ default_tool: "verilator", filesets: ["rtl", "sim"], toplevel: t });
        expect(core.targets[`synth_${t}`]).toMatchObject({ default_tool: "yosys", filesets: ["rtl", "stubs", "synth_tcl"], toplevel: t });
      }
      expect(core.targets.default).toEqual({ filesets: ["rtl"], toplevel: top });
      expect(core.targets.lint).toMatchObject({ default_tool: "verilator", filesets: ["rtl", "sim"], toplevel: top, tools: { verilator: { mode: "lint-only" } } });
      expect(core.targets.sim).toMatchObject({ default_tool: "icarus", filesets: ["rtl", "sim", "tb"], toplevel: hostTbModule(r.name), parameters: ["cmd", "out", "maxcycles"] });
      expect(Object.keys(core.targets.sim.tools).sort()).toEqual(["icarus", "verilator"]);
      expect(core.targets.synth).toMatchObject({ default_tool: "yosys", filesets: ["rtl", "stubs", "synth_tcl"], toplevel: top });
      for (const t of Object.values(core.targets) as { filesets: string[]; parameters?: string[] }[]) {
        for (const f of t.filesets) expect(core.filesets[f]).toBeDefined();
        for (const p of t.parameters ?? []) expect(core.parameters[p]).toMatchObject({ paramtype: "plusarg" });
      }
    });

    it(`${label}: sim.f never holds a stub, synth.f never a behavioral model; every file is reachable from the top`, () => {
      const sim = lines(fileOf(d, "filelists/sim.f").content);
      const synth = lines(fileOf(d, "filelists/synth.f").content);
      const kind = new Map(d.files.map((f) => [f.path, f.kind]));
      expect(sim.filter((p) => !["rtl", "sim"].includes(kind.get(p)!))).toEqual([]);
      expect(synth.filter((p) => !["rtl", "stub"].includes(kind.get(p)!))).toEqual([]);
      expect(synth.some((p) => kind.get(p) === "stub")).toBe(true);
      // no dead files: the lists are exactly what the tops instantiate; per-top lists when there are several tops
      const union = (src: GeneratedFile[]) => [...new Set(d.tops.flatMap((t) => filesForTop(src, t).map((f) => f.path)))].sort();
      expect(union(simSources(d.files))).toEqual([...sim].sort());
      expect(union(synthSources(d.files))).toEqual([...synth].sort());
      expect(lines(fileOf(d, "filelists/tb.f").content)).toEqual([...sim, hostTbPath(d.r.name)]);
      if (d.tops.length > 1)
        for (const t of d.tops) {
          expect(lines(fileOf(d, `filelists/${t}.sim.f`).content).sort(), t).toEqual(filesForTop(simSources(d.files), t).map((f) => f.path));
          expect(lines(fileOf(d, `filelists/${t}.synth.f`).content).sort(), t).toEqual(filesForTop(synthSources(d.files), t).map((f) => f.path));
        }
      else expect(d.files.filter((f) => /^filelists\/.*_.*\.f$/.test(f.path))).toEqual([]);
    });
  }

  it("a design with several tops gets per-top filelists and targets, each list complete on its own", async () => {
    const d = designs.tiny;
    const logic = d.files.filter((f) => !f.path.startsWith("filelists/") && !f.path.endsWith(".core") && f.kind !== "tb" && !f.path.startsWith("synth/"));
    const second = `${d.r.name}_dataflow`;
    const pkg = packageFiles(d.r, logic, [d.tops[0], second]);
    const get = (p: string) => pkg.find((f) => f.path === p);
    for (const t of [d.tops[0], second]) {
      expect(get(`filelists/${t}.sim.f`), t).toBeDefined();
      expect(get(`filelists/${t}.synth.f`), t).toBeDefined();
    }
    const sub = lines(get(`filelists/${second}.sim.f`)!.content);
    expect(sub).toContain(`${second}.v`);
    expect(sub.some((p) => /_ctrl\.v$|_moeHalf\.v$|_top\.v$/.test(p))).toBe(false);
    expect(lines(get(`filelists/${d.tops[0]}.sim.f`)!.content).sort()).toEqual(filesForTop(simSources(logic), d.tops[0]).map((f) => f.path));
    const core = YAML.parse(get(coreFile(d.r.name))!.content);
    expect(core.targets[`synth_${second}`]).toMatchObject({ toplevel: second, default_tool: "yosys" });
    expect(core.targets[`lint_${second}`]).toMatchObject({ toplevel: second });
    // the per-top list alone lints clean for its top
    const dir = tmp();
    for (const f of [...logic, ...pkg]) {
      fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
      fs.writeFileSync(path.join(dir, f.path), f.content);
    }
    const res = await verilatorLint(
      sub.map((p) => path.join(dir, p)),
      second,
    );
    expect(res.warnings, res.output).toEqual([]);
  });

  it("tiny (3D tiers): every top lints clean from its own per-top list", async () => {
    const d = designs.tiny;
    expect(d.tops.length).toBeGreaterThan(1);
    const dir = tmp();
    writeDesign(d, dir);
    for (const t of d.tops) {
      const list = lines(fs.readFileSync(path.join(dir, `filelists/${t}.sim.f`), "utf8"));
      const res = await verilatorLint(
        list.map((p) => path.join(dir, p)),
        t,
      );
      expect(res.warnings, `${t}\n${res.output}`).toEqual([]);
    }
  });

  it("the packaged host testbench runs from filelists/tb.f (Icarus): reads the config ID", async () => {
    const d = designs.tiny;
    const dir = tmp();
    writeDesign(d, dir);
    const tb = lines(fs.readFileSync(path.join(dir, "filelists/tb.f"), "utf8")).map((p) => path.join(dir, p));
    const vvp = await icarusBuild(tb, hostTbModule(d.r.name), path.join(dir, "build"));
    fs.writeFileSync(path.join(dir, "id.cmd"), "2 00000002 00000000\n0 0 0\n");
    const res = await icarusRun(vvp, [`+cmd=${path.join(dir, "id.cmd")}`, `+out=${path.join(dir, "id.out")}`], dir);
    expect(res.output).toContain(`PASS ${hostTbModule(d.r.name)}`);
    expect(parseInt(fs.readFileSync(path.join(dir, "id.out"), "utf8").trim(), 16) >>> 0).toBe(parseInt(d.r.hash.slice(-8), 16) >>> 0);
  });

  it.skipIf(!which("fusesoc"))("fusesoc reads the core (only when fusesoc is installed)", async () => {
    const d = designs.tiny;
    const dir = tmp();
    writeDesign(d, dir);
    const res = await execa("fusesoc", ["--cores-root", dir, "core-info", coreVlnv(d.r)], { reject: false, all: true });
    expect(res.exitCode, res.all).toBe(0);
  });
});

// ---------------------------------------------------------------------------- leaf parameters

describe("lifArray THRESHOLD / TAU_SHIFT are real parameters (docs/IP.md)", () => {
  const r = resolveInput({ name: "pk", model: { dim: 8, heads: 2, tokens: 4, timesteps: 2 } });
  const base: ResolvedLif = { ...r.lif.shortcut, xBits: 8 };
  // a: reset subtract with a negative generated threshold (stored state has the extra bit: any
  //    threshold of the stateBits range is safe); b: positive threshold, decay on the input
  const genA: ResolvedLif = { ...base, stateBits: 8, threshold: -5, reset: "subtract", decayInput: false, tauShift: 3, fire: ">=" };
  const genB: ResolvedLif = { ...base, stateBits: 8, threshold: 30, reset: "subtract", decayInput: true, tauShift: 4, fire: ">" };
  const pA = lifArrayParams(r, genA, "ova", 12, 3);
  const pB = lifArrayParams(r, genB, "ovb", 12, 3);
  // instances: [generated params, overridden values] (undefined = no override)
  const cases: { gen: ResolvedLif; thr?: number; tau?: number }[] = [
    { gen: genA, thr: 100, tau: 0 },
    { gen: genA, thr: pA.overrides.thresholdMin, tau: pA.overrides.tauShiftMax },
    { gen: genB, thr: pB.overrides.thresholdMin, tau: 1 },
    { gen: genB, thr: pB.overrides.thresholdMax - 1, tau: 2 },
    { gen: genB },
  ];
  const tag = (g: ResolvedLif) => (g === genA ? "ova" : "ovb");
  const want: LifTbInstance[] = cases.map((c, i) => ({
    p: lifArrayParams(r, { ...c.gen, threshold: c.thr ?? c.gen.threshold, tauShift: c.tau ?? c.gen.tauShift }, tag(c.gen), 12, 3),
    label: `c${i}`,
    T: 6,
  }));
  const tbModule = "pk_lifparam_tb";

  /** TB files: expectations from the overridden values, modules as generated, overrides on the instances (or not). */
  function tbFiles(withOverrides: boolean): GeneratedFile[] {
    const files = new Map<string, GeneratedFile>();
    for (const f of renderLifTb(r, tbModule, want)) files.set(f.path, f);
    for (const p of [pA, pB]) for (const f of renderLifArray(r, p)) files.set(f.path, f); // generated defaults
    const tb = files.get(`${tbModule}.v`)!;
    let text = tb.content;
    if (withOverrides)
      cases.forEach((c, i) => {
        if (c.thr === undefined) return;
        const p = want[i].p;
        const from = `  ${p.module} u${i} (`;
        expect(text).toContain(from);
        text = text.replace(from, `  ${p.module} #(.THRESHOLD(${slit(p.wBits, c.thr)}), .TAU_SHIFT(${c.tau})) u${i} (`);
      });
    files.set(tb.path, { ...tb, content: text });
    return [...files.values()];
  }

  it("the generated module declares them, with the generated values as defaults", () => {
    const text = renderLifArray(r, pA)[0].content;
    expect(text).toContain(`parameter signed [${pA.wBits - 1}:0] THRESHOLD = ${slit(pA.wBits, -5)}`);
    expect(text).toContain("parameter integer TAU_SHIFT = 3");
    expect(pA.overrides).toEqual({ thresholdMin: -128, thresholdMax: 127, tauShiftMax: 3 });
    expect(pB.overrides).toEqual({ thresholdMin: 0, thresholdMax: 127, tauShiftMax: 4 });
  });

  for (const sim of SIMS) {
    it(`overridden instances match the golden model at the new values (${sim})`, async () => {
      const work = buildDir("test", "package", `lifparam-${sim}`);
      const files = tbFiles(true);
      for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
      const built = await buildSim(
        sim,
        files.map((f) => path.join(work, f.path)),
        tbModule,
        work,
      );
      for (const [seed, style] of [
        [3, "small"],
        [4, "random"],
        [5, "extreme"],
      ] as const) {
        const data = path.join(work, `data${seed}`);
        const st = writeLifStimulus(data, want, seed, style);
        expect(st.spikes).toBeGreaterThan(0);
        await runSimExpectPass(built, [`+data=${data}`], seed);
      }
    });
  }

  it("without the overrides the same expectations fail (the parameters matter)", async () => {
    const work = buildDir("test", "package", "lifparam-none");
    const files = tbFiles(false);
    for (const f of files) fs.writeFileSync(path.join(work, f.path), f.content);
    const built = await buildSim(
      "icarus",
      files.map((f) => path.join(work, f.path)),
      tbModule,
      work,
    );
    const data = path.join(work, "data");
    writeLifStimulus(data, want, 4, "random");
    const res = await runSim(built, [`+data=${data}`], 4);
    expect(res.pass).toBe(false);
    expect(res.output).toMatch(/MISMATCH|FAIL/);
  });
});
