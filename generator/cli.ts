/**
 * st3d command line.  Every command prints a clear one-paragraph error (never a stack
 * trace, unless ST3D_DEBUG=1) and exits non-zero on failure.
 */
import fs from "node:fs";
import path from "node:path";
import { Command, Option } from "commander";
import { z } from "zod";
import { ConfigError, listPresets, loadConfig } from "./config/load.ts";
import { resolve, ST3D_VERSION, type Resolved } from "./config/resolve.ts";
import { configSchema } from "./config/schema.ts";
import { describeTable, resolvedJson } from "./config/describe.ts";
import { checkOutputDir, MANIFEST, OutputError, writeOutputDir, type Manifest } from "./output.ts";
import { cacheClean, cacheRoot, cacheUsage } from "./cache/cache.ts";
import { progress } from "./progress/progress.ts";
import { ToolFailedError, ToolMissingError } from "./toolchain/tools.ts";
import { verilatorLint } from "./toolchain/verilator.ts";

export class UsageError extends Error {
  override name = "UsageError";
}

const KNOWN_ERRORS = ["ConfigError", "OutputError", "ToolMissingError", "ToolFailedError", "TensorError", "NpyError", "UsageError", "RunError"];

function fail(e: unknown): never {
  const err = e as Error;
  if (process.env.ST3D_DEBUG) console.error(err.stack);
  if (err && KNOWN_ERRORS.includes(err.name ?? err.constructor?.name)) console.error(`st3d: ${err.message}`);
  else console.error(`st3d: internal error: ${err?.message ?? String(e)} (set ST3D_DEBUG=1 for the stack; please report it)`);
  process.exit(1);
}

const FORCE_HELP = "replace st3d's own earlier output in that folder even where its files were edited (never a file st3d did not write, a git repository, the installation, home, / or the current folder)";

/** A PRNG seed: a decimal integer 0..2^32-1 (mulberry32 state), never wrapped. */
export function parseSeed(s: string): number {
  const t = s.trim();
  if (!/^\d+$/.test(t) || Number(t) > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295 (a 32-bit seed), got '${s}'`);
  return Number(t);
}

function parseCount(s: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(s) || !(Number(s) > 0) || !Number.isSafeInteger(Number(s))) throw new UsageError(`${what} must be a positive integer, got '${s}'`);
  return Number(s);
}

/** A whole number of cycles >= 0. */
function parseCycles(s: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(s) || !Number.isSafeInteger(Number(s))) throw new UsageError(`${what} must be a whole number of cycles >= 0, got '${s}'`);
  return Number(s);
}

/** A positive decimal number (bytes per cycle). */
function parseRate(s: string, what: string): number {
  if (!/^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(s) || !(Number(s) > 0)) throw new UsageError(`${what} must be a positive number of bytes per cycle (e.g. 16 or 0.5), got '${s}'`);
  return Number(s);
}

/** "from:to", "from:", ":to" or "from" (cycles). */
export function parseWindowArg(s: string): { from?: number; to?: number } {
  const m = /^\s*(\d*)\s*(?::\s*(\d*)\s*)?$/.exec(s);
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw new UsageError(`--waves-window must be <from>:<to> in simulation cycles (e.g. 1000:2000, 1000:, :5000), got '${s}'`);
  return { from: m[1] ? Number(m[1]) : undefined, to: m[2] ? Number(m[2]) : undefined };
}

export function loadResolved(ref: string): Resolved {
  return resolve(loadConfig(ref));
}

function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      fail(e);
    }
  };
}

export function readManifest(dir: string): Manifest {
  const mf = path.join(dir, MANIFEST);
  if (!fs.existsSync(mf)) throw new UsageError(`${dir} holds no ${MANIFEST}: generate it first with 'st3d generate <cfg> -o ${dir}'`);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(mf, "utf8"));
  } catch (e) {
    throw new UsageError(`${mf} is not a readable st3d manifest (${(e as Error).message}); regenerate the folder with 'st3d generate'`);
  }
  if (!m || !Array.isArray(m.files)) throw new UsageError(`${mf} lists no files; regenerate the folder with 'st3d generate'`);
  return m;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("st3d")
    .description("Generate synthesizable Verilog for 3D-stacked spiking transformers with MoE and multi-head attention")
    .version(ST3D_VERSION)
    .showHelpAfterError();

  program
    .command("validate")
    .description("check a config (JSON/YAML file or preset name) and exit non-zero with a field-named message if it is invalid")
    .argument("<config>", `config file or preset (${listPresets().join(", ")})`)
    .action(
      action((cfg: string) => {
        const r = loadResolved(cfg);
        console.log(`ok: ${cfg} is valid (design '${r.name}', config hash ${r.hash})`);
      }),
    );

  program
    .command("describe")
    .description("print the resolved parameters (every default applied, every derived width) as a table")
    .argument("<config>", "config file or preset")
    .option("--json", "print resolved.json instead of the table")
    .action(
      action((cfg: string, opts: { json?: boolean }) => {
        const r = loadResolved(cfg);
        process.stdout.write(opts.json ? resolvedJson(r) : describeTable(r));
      }),
    );

  program
    .command("generate")
    .description("generate the RTL, testbench data and reports of a config into a folder (written atomically; docs/OUTPUTS.md)")
    .argument("<config>", "config file or preset")
    .option("-o, --out <dir>", "output folder (new, empty, or st3d's own earlier output)", "out/rtl")
    .option("--force", FORCE_HELP)
    .option("--physical", "also the physical 3D views: 3d_manifest.json (areas, bond budget), partition.txt, 3Dblox package (maps every module onto the cell library; cached)")
    .action(
      action(async (cfg: string, opts: { out: string; force?: boolean; physical?: boolean }) => {
        const r = loadResolved(cfg);
        checkOutputDir(opts.out, { force: opts.force }); // before any (long) work
        const { designFor } = await import("./physical/design.ts");
        // auto / logic-on-logic and --physical synthesize every module first (progress lines on stderr)
        const d = await designFor(r, { physical: opts.physical, progressLabel: "generate: synth" });
        const written = writeOutputDir(opts.out, d.files, { generator: `st3d ${r.version}`, command: "generate", design: r.name, configHash: r.hash, tops: d.tops }, { force: opts.force });
        console.log(`generated ${written.length} files for '${r.name}' (config hash ${r.hash}) in ${opts.out}`);
      }),
    );

  program
    .command("lint")
    .description("run 'verilator --lint-only -Wall' on a generated folder; fails on any warning")
    .argument("[dir]", "generated folder", "rtl-out")
    .action(
      action(async (dir: string) => {
        const m = readManifest(dir);
        const files = m.files.filter((f) => (f.kind === "rtl" || f.kind === "sim") && f.path.endsWith(".v")).map((f) => path.join(dir, f.path));
        const tops = m.tops ?? [];
        let bad = 0;
        const p = progress("lint", { total: tops.length, unit: "tops" });
        for (const top of tops) {
          p.set(tops.indexOf(top), `verilator --lint-only -Wall ${top}`);
          const res = await verilatorLint(files, top);
          p.tick(1, top);
          if (!res.ok) {
            bad++;
            p.log(`${top}: ${res.warnings.length} warning(s)`);
            console.log(`${top}: ${res.warnings.length} warning(s)\n${res.warnings.join("\n")}`);
          } else console.log(`${top}: clean`);
        }
        p.done();
        if (bad) throw new ToolFailedError("verilator", "", `lint found warnings in ${bad} of ${tops.length} top(s)`);
        console.log(`lint: ${tops.length} top(s), ${files.length} files, 0 warnings`);
      }),
    );

  const libraryOptions = (c: Command) =>
    c
      .option("--liberty <file>", "cell library (default: OSU018 from qflow-tech-osu018)")
      .option("--lef <file>", "LEF of that library (wire R/C of its routing layers)")
      .option("--cell-models <file>", "Verilog models of its cells (gate-level simulation on Icarus)")
      .option("--node <nm>", "technology node of the library, nm (default: inferred from its name)")
      .option("--wire-layer <layer>", "LEF routing layer of the inter-block wires (default metal3)")
      .option("--clock <mhz>", "clock target, MHz (default hardware.clockMHz, else the library's default)")
      .option("-j, --jobs <n>", "parallel Yosys processes (default: the machine's cores)");
  type LibOpts = { liberty?: string; lef?: string; cellModels?: string; node?: string; wireLayer?: string; clock?: string; jobs?: string };
  const physicalOptions = (o: LibOpts) => {
    const num = (v: string | undefined, what: string, int = false) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!(n > 0) || (int && !Number.isInteger(n))) throw new UsageError(`${what} must be a positive ${int ? "integer" : "number"}, got '${v}'`);
      return n;
    };
    return { liberty: o.liberty, lef: o.lef, cellModels: o.cellModels, nodeNm: num(o.node, "--node", true), wireLayer: o.wireLayer, clockMHz: num(o.clock, "--clock"), jobs: num(o.jobs, "--jobs", true) };
  };

  libraryOptions(
    program
      .command("synth")
      .description("map every module onto a real cell library (Yosys + ABC, hierarchical, cached, parallel): areas per instance, tier and view (synth/report.json)")
      .argument("<config>", "config file or preset")
      .option("-o, --out <dir>", "report folder", "synth"),
  ).action(
    action(async (cfg: string, opts: LibOpts & { out: string }) => {
      const r = loadResolved(cfg);
      const { physicalFlow, reportTable } = await import("./physical/flow.ts");
      const rep = await physicalFlow(r, { ...physicalOptions(opts), out: opts.out });
      process.stdout.write(reportTable(rep));
      const latches = Object.values(rep.views).reduce((a, v) => a + (v?.latches ?? 0), 0);
      if (latches) throw new ToolFailedError("yosys", "", `${latches} latch cell(s) in the mapped netlists`);
      console.log(`synth: ${rep.synthesis.modules.length} modules on ${rep.library.name} -> ${path.join(opts.out, "report.json")}, report.txt`);
    }),
  );

  libraryOptions(
    program
      .command("timing")
      .description("synthesis + OpenSTA on the 2D top and the 3D assembly (inter-instance wire parasitics): WNS, TNS, fmax, f_eff, critical path; with --activity also the energy per inference")
      .argument("<config>", "config file or preset")
      .option("-o, --out <dir>", "report folder", "synth")
      .option("--activity <run.json>", "run.json of 'st3d run' of the same config: energy per inference, power at f_eff, pJ per synaptic op"),
  ).action(
    action(async (cfg: string, opts: LibOpts & { out: string; activity?: string }) => {
      const r = loadResolved(cfg);
      let run: { path: string; json: Record<string, unknown> } | undefined;
      if (opts.activity) {
        if (!fs.existsSync(opts.activity)) throw new UsageError(`--activity ${opts.activity}: no such file (write one with 'st3d run -c ${cfg} ... -o DIR', then pass DIR/run.json)`);
        try {
          run = { path: opts.activity, json: JSON.parse(fs.readFileSync(opts.activity, "utf8")) };
        } catch (e) {
          throw new UsageError(`--activity ${opts.activity} is not JSON (${(e as Error).message})`);
        }
      }
      const { physicalFlow, reportTable } = await import("./physical/flow.ts");
      const rep = await physicalFlow(r, { ...physicalOptions(opts), out: opts.out, timing: true, run });
      process.stdout.write(reportTable(rep));
      console.log(`timing: ${Object.keys(rep.views).join(", ")} -> ${path.join(opts.out, "report.json")}, report.txt, ${Object.keys(rep.views).map((v) => path.join(opts.out, v) + "/").join(", ")}`);
    }),
  );

  libraryOptions(
    program
      .command("report")
      .description("the 2D-vs-3D PPA report: run a model on Verilator (activity), synthesize, time and price the 2d, memory-on-logic, logic-on-logic and auto views; report.json + report.html (+ per-view designs and ORFS folders)")
      .argument("<config>", "config file or preset")
      .option("-w, --weights <dir>", "model folder (weights/*.npy, as for st3d run); default: a random model")
      .option("-i, --input <file>", "U0 input tensor (.npy), with --weights")
      .option("-d, --density <p>", "spike density of the random model (0..1, default 0.15; not with --weights)")
      .option("-s, --seed <n>", "seed of the random model", "1")
      .option("--views <list>", "comma-separated views (default 2d,memory-on-logic,logic-on-logic,auto; 2d is always included)")
      .option("-o, --out <dir>", "report folder", "report")
      .option("--force", FORCE_HELP),
  ).action(
    action(async (cfg: string, opts: LibOpts & { weights?: string; input?: string; density?: string; seed: string; views?: string; out: string; force?: boolean }) => {
      const r = loadResolved(cfg);
      if (!!opts.weights !== !!opts.input) throw new UsageError("--weights and --input go together (a model folder and its U0 tensor); or pass neither for a random model (--density)");
      if (opts.weights && opts.density !== undefined) throw new UsageError("--density makes a random model: it cannot be combined with --weights");
      const density = opts.density === undefined ? undefined : Number(opts.density);
      if (density !== undefined && !(density > 0 && density < 1)) throw new UsageError(`--density must be between 0 and 1 (exclusive), got '${opts.density}'`);
      const seed = Number(opts.seed);
      if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${opts.seed}'`);
      checkOutputDir(opts.out, { force: opts.force }); // before any (long) work
      const { VIEWS, report } = await import("./report/flow.ts");
      let views = [...VIEWS] as (typeof VIEWS)[number][];
      if (opts.views) {
        const asked = opts.views.split(",").map((s) => s.trim()).filter(Boolean);
        const bad = asked.filter((v) => !(VIEWS as readonly string[]).includes(v));
        if (bad.length) throw new UsageError(`--views: unknown view ${bad.join(", ")} (valid: ${VIEWS.join(", ")})`);
        views = VIEWS.filter((v) => v === "2d" || asked.includes(v));
      }
      const { writeReport, summaryText } = await import("./report/write.ts");
      const command = ["st3d", "report", cfg, ...process.argv.slice(3).filter((a) => a !== cfg)].join(" ");
      const res = await report(r, { ...physicalOptions(opts), weights: opts.weights, input: opts.input, density, seed: opts.weights ? undefined : seed, views, command });
      const written = writeReport(opts.out, res, { force: opts.force });
      process.stdout.write(summaryText(res));
      console.log(`report: ${written.length} files in ${opts.out}: ${path.join(opts.out, "report.html")}, ${path.join(opts.out, "report.json")} (${res.timings.totalSeconds.toFixed(0)} s)`);
    }),
  );

  program
    .command("run")
    .description("simulate an inference of the generated RTL through its host port (SPEC §4), or the golden model with --golden; results in -o (docs/RUN.md)")
    .requiredOption("-c, --config <config>", "config file or preset")
    .requiredOption("-w, --weights <dir>", "folder of .npy tensors named like a PyTorch state_dict (docs/MODEL.md)")
    .requiredOption("-i, --input <file>", "U0 as .npy [T, N, D]")
    .requiredOption("-o, --out <dir>", "output folder (new, empty, or st3d's own earlier output): output.npy, run.json, ...")
    .addOption(new Option("--sim <sim>", "simulator").choices(["verilator", "icarus"]).default("verilator"))
    .addOption(new Option("--view <view>", "2d top, or the 3D tiers assembled through their F2F ports").choices(["2d", "3d"]).default("2d"))
    .option("--golden", "run the TypeScript golden model only (no RTL)")
    .option("--check [weights]", "compare the RTL with the golden model after every half of every block, the output and the counters; report the first mismatch (exit 1). With a folder: the golden model runs on those weights")
    .addOption(new Option("--waves [format]", "dump a waveform into the output folder: vcd (default) or fst").choices(["vcd", "fst"]).preset("vcd"))
    .option("--waves-window <from:to>", "with --waves: only simulation cycles from..to (either may be left out, e.g. 1200: or :5000; run.json 'startCycle' and perBlock[].startCycle give cycle numbers)")
    .option("--keep", "keep the build, the host command file and a replay script in <out>/debug/")
    .option("--max-cycles <n>", "stop the simulation as a failure after n clock cycles (default 100000000)")
    .option("--mem-latency <cycles>", "weights off chip (hardware.weightsOnChip false): latency of the testbench's off-chip memory, cycles from a burst's AR handshake to its first beat at the earliest (default 100)")
    .option("--mem-bandwidth <bytes>", "weights off chip: bandwidth of the off-chip memory in bytes per cycle, fractions allowed, e.g. 0.5 (default 16)")
    .option("--force", FORCE_HELP)
    .option("--netlist", "simulate the gate-level netlist mapped onto the cell library (see st3d synth) instead of the RTL")
    .option("--liberty <file>", "cell library of --netlist (default OSU018)")
    .option("--cell-models <file>", "Verilog models of its cells (Icarus)")
    .option("--node <nm>", "technology node of that library, nm")
    .action(
      action(
        async (opts: {
          config: string;
          weights: string;
          input: string;
          out: string;
          sim: "verilator" | "icarus";
          view: "2d" | "3d";
          golden?: boolean;
          check?: boolean | string;
          waves?: "vcd" | "fst";
          wavesWindow?: string;
          keep?: boolean;
          maxCycles?: string;
          memLatency?: string;
          memBandwidth?: string;
          force?: boolean;
          netlist?: boolean;
        } & LibOpts) => {
          const r = loadResolved(opts.config);
          const { st3dRun } = await import("./run/run.ts");
          const t0 = Date.now();
          const res = await st3dRun(r, {
            weights: opts.weights,
            input: opts.input,
            out: opts.out,
            sim: opts.sim,
            view: opts.view,
            golden: opts.golden,
            check: opts.check,
            waves: opts.waves,
            wavesWindow: opts.wavesWindow !== undefined ? parseWindowArg(opts.wavesWindow) : undefined,
            keep: opts.keep,
            maxCycles: opts.maxCycles !== undefined ? parseCount(opts.maxCycles, "--max-cycles") : undefined,
            memLatency: opts.memLatency !== undefined ? parseCycles(opts.memLatency, "--mem-latency") : undefined,
            memBandwidth: opts.memBandwidth !== undefined ? parseRate(opts.memBandwidth, "--mem-bandwidth") : undefined,
            force: opts.force,
            progress: true,
            netlist: opts.netlist,
            physical: physicalOptions(opts),
          });
          const j = res.json;
          const where = `results in ${opts.out}: ${res.files.join(", ")}`;
          console.log(
            opts.golden
              ? `golden: ${j.synapticOps} synaptic ops, ${j.spikes} spikes (${((Date.now() - t0) / 1000).toFixed(1)} s); ${where}`
              : `${j.simulator} ${j.view}${opts.netlist ? " gate-level" : ""}: ${j.cycles} cycles, ${j.synapticOps} synaptic ops, utilization ${(100 * (j.utilization ?? 0)).toFixed(1)}%${j.offchip ? `, ${j.offchip.bytesRead} bytes of weights from off-chip in ${j.offchip.bursts} bursts, ${j.offchip.waitCycles} cycles waiting for them` : ""} (${((Date.now() - t0) / 1000).toFixed(1)} s); ${where}`,
          );
        },
      ),
    );

  program
    .command("random-model")
    .description("write a random model (weights/*.npy) and input (input.npy) for a config into a folder, atomically, with roughly the requested spike density")
    .argument("<config>", "config file or preset")
    .option("-s, --seed <n>", "PRNG seed, an integer 0..4294967295", "1")
    .option("-d, --density <p>", "target spike density of the LIF outputs (0..1)", "0.15")
    .requiredOption("-o, --out <dir>", "output folder (new, empty, or st3d's own earlier output)")
    .option("--force", FORCE_HELP)
    .action(
      action(async (cfg: string, opts: { seed: string; density: string; out: string; force?: boolean }) => {
        const r = loadResolved(cfg);
        const seed = parseSeed(opts.seed);
        const density = Number(opts.density);
        if (!/^\s*[0-9.eE+-]+\s*$/.test(opts.density) || !(density > 0 && density < 1)) throw new UsageError(`--density must be a number between 0 and 1 (exclusive), got '${opts.density}'`);
        checkOutputDir(opts.out, { force: opts.force });
        const { randomModel, modelFiles, inputNpy } = await import("./model/tensors.ts");
        // big models take seconds: say so (the work is synchronous, so counted steps, no heartbeat)
        const params = r.L * (4 * r.D * r.D + r.E * r.D + r.E * 2 * r.D * r.F);
        const p = params > 2_000_000 ? progress("random-model", { total: 3, unit: "steps" }) : null;
        p?.set(0, `drawing ${params} weights`);
        const { model, input } = randomModel(r, seed, density);
        p?.tick(1, "serializing");
        const files = [...modelFiles(r, model, "weights/"), { path: "input.npy", kind: "tensor", content: inputNpy(r, input) }];
        p?.tick(1, `writing ${opts.out}`);
        writeOutputDir(opts.out, files, { generator: `st3d ${r.version}`, command: "random-model", design: r.name, configHash: r.hash }, { force: opts.force });
        p?.tick(1);
        p?.done(`${files.length - 1} tensors`);
        console.log(`wrote ${path.join(opts.out, "weights")}/ (${files.length - 1} tensors) and ${path.join(opts.out, "input.npy")} (seed ${seed}, density ${density}); results in ${opts.out}`);
      }),
    );

  program
    .command("cache")
    .description("show the st3d cache (root, size per kind) or clean it; root: $ST3D_CACHE, else $XDG_CACHE_HOME/st3d, else ~/.cache/st3d (docs/CACHE.md)")
    .argument("[action]", "'clean' removes every entry (or one kind with --kind)")
    .option("--kind <kind>", "only this kind (sim, synth, partition, ...)")
    .action(
      action((act: string | undefined, opts: { kind?: string }) => {
        const root = cacheRoot();
        if (act === undefined || act === "show") {
          const u = cacheUsage(root);
          console.log(`st3d cache: ${root}${u.length ? "" : " (empty)"}`);
          for (const k of u) console.log(`  ${k.kind.padEnd(12)} ${String(k.entries).padStart(5)} entries  ${(k.bytes / 1e6).toFixed(1).padStart(8)} MB`);
        } else if (act === "clean") {
          const removed = cacheClean(opts.kind, root);
          console.log(removed.length ? `removed ${removed.join(", ")}` : `nothing to remove in ${root}`);
        } else throw new UsageError(`st3d cache: unknown action '${act}' (use 'show' or 'clean')`);
      }),
    );

  program
    .command("sweep")
    .description("design-space exploration: every point of a sweep file (axes x workloads), on a local worker pool or as a Slurm job array; results.jsonl/.csv, the Pareto front and sweep.html (docs/SWEEP.md)")
    .argument("<file>", "sweep file (YAML or JSON)")
    .requiredOption("-o, --out <dir>", "sweep folder (new, empty, or an earlier run of st3d sweep: finished points are kept)")
    .option("-j, --jobs <n>", "points at once on this machine (default: the number of cores)")
    .option("--retry-failed", "run the points that failed before again (finished points are always kept)")
    .option("--collect", "run nothing: rebuild results.jsonl, results.csv, pareto.json and sweep.html from the result files")
    .option("--force", "replace st3d's own collected files of the folder that were edited since")
    .option("--point <list>", "run only these points (e.g. 3 or 0,2,5-7) and write their results: what each worker and Slurm task runs")
    .option("--slurm", "run the points as one Slurm job array (sbatch), follow it and collect the results")
    .option("--partition <name>", "Slurm partition (--slurm)")
    .option("--time <limit>", "Slurm time limit per array task, e.g. 2:00:00 (--slurm)")
    .option("--cpus-per-task <n>", "CPUs per array task (--slurm; default 1)")
    .option("--sbatch-arg <option>", "another sbatch option, one per flag, e.g. --sbatch-arg=--mem=4G (--slurm; repeatable)", (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option("--chunk <n>", "points per array task (--slurm; default: one configuration per task, i.e. its workloads)")
    .option("--max-parallel <n>", "at most this many array tasks at once (--slurm)")
    .option("--dry-run", "print the sbatch script and submit nothing (--slurm)")
    .option("--no-wait", "submit the job and return (collect later with --collect) (--slurm)")
    .action(
      action(async (file: string, opts: Record<string, unknown>) => {
        const num = (k: string, flag: string) => {
          const v = opts[k];
          if (v === undefined) return undefined;
          const n = Number(v);
          if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${v}'`);
          return n;
        };
        const { sweepCommand } = await import("./sweep/sweep.ts");
        const res = await sweepCommand(file, {
          out: opts.out as string,
          jobs: num("jobs", "--jobs"),
          point: opts.point as string | undefined,
          retryFailed: !!opts.retryFailed,
          collect: !!opts.collect,
          force: !!opts.force,
          slurm: !!opts.slurm,
          partition: opts.partition as string | undefined,
          time: opts.time as string | undefined,
          cpusPerTask: num("cpusPerTask", "--cpus-per-task"),
          sbatchArgs: (opts.sbatchArg as string[] | undefined) ?? [],
          chunk: num("chunk", "--chunk"),
          maxParallel: num("maxParallel", "--max-parallel"),
          dryRun: !!opts.dryRun,
          wait: opts.wait !== false,
        });
        process.exitCode = res.code;
      }),
    );

  program
    .command("schema")
    .description("print the JSON Schema of the config file (for editor completion)")
    .action(
      action(() => {
        process.stdout.write(JSON.stringify(configJsonSchema(), null, 2) + "\n");
      }),
    );

  return program;
}

export function configJsonSchema(): object {
  return { ...(z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as object), title: "st3d configuration" };
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : 2);
  });
  await program.parseAsync(argv);
}

export { ConfigError, OutputError, ToolMissingError, Option };
