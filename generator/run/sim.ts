/**
 * Simulator builds of `st3d run`, in the st3d cache (generator/cache/cache.ts, kind "sim"):
 * one entry per (simulator, its version, sources, top, waves format, probes), holding
 *   src/…          the Verilog sources as compiled
 *   simv | sim.vvp the simulation (Verilator binary / Icarus vvp file)
 *   build.sh       the exact build command (rebuilds from src/ by hand)
 *   build.log      the tool's output
 * Entries are built in a private folder and published atomically, so any number of `st3d run`
 * can start at once on a cold cache; a truncated or damaged entry is detected by its hashes and
 * rebuilt.  Simulations never run inside an entry (their cwd is a private folder).
 */
import fs from "node:fs";
import path from "node:path";
import { cached, cacheKey } from "../cache/cache.ts";
import { icarusBuildArgs } from "../toolchain/icarus.ts";
import { runStreaming, toolVersion, ToolFailedError } from "../toolchain/tools.ts";
import { tail, verilatorBuildArgs, verilatorRunArgs } from "../toolchain/verilator.ts";

export type Sim = "icarus" | "verilator";
export type WavesFormat = "vcd" | "fst";

export interface SimSource {
  path: string;
  content: string;
}

export interface SimBuild {
  sim: Sim;
  top: string;
  /** the cache entry (read only) */
  entry: string;
  /** absolute path of the binary / vvp file in the entry */
  bin: string;
  /** the binary's name inside the entry */
  binName: string;
  /** waveform format compiled in (Verilator traces are a build option) */
  waves?: WavesFormat;
  /** true when the entry was already in the cache */
  hit: boolean;
  /** why an earlier entry was rebuilt, if it was */
  rebuilt?: string;
}

interface EntryValue {
  bin: string;
  tool: string;
}

const shq = (s: string) => (/^[A-Za-z0-9_./+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The build command of an entry, relative to the entry folder. */
function buildCommand(sim: Sim, srcs: string[], top: string, waves: WavesFormat | undefined, probes: boolean, extra: Record<string, string | number> = {}): { cmd: string; args: string[]; bin: string; after?: string } {
  const defines: Record<string, string | number> = { ...extra };
  if (probes) defines.ST3D_PROBES = 1;
  if (waves) defines.ST3D_WAVES = 1;
  if (sim === "verilator") {
    const trace = waves === "fst" ? ["--trace-fst"] : waves === "vcd" ? ["--trace"] : [];
    return { cmd: "verilator", args: verilatorBuildArgs(srcs, top, "obj_dir", defines, trace), bin: "simv", after: "cp obj_dir/simv simv" };
  }
  return { cmd: "iverilog", args: icarusBuildArgs(srcs, top, "sim.vvp", defines), bin: "sim.vvp" };
}

export interface BuildOptions {
  waves?: WavesFormat;
  /** compile the st3d run probes in (`define ST3D_PROBES) */
  probes?: boolean;
  /** user messages (naming the cache entry) */
  log?: (msg: string) => void;
  /** cache root override (tests) */
  root?: string;
  /** extra `define`s */
  defines?: Record<string, string | number>;
}

/** Build (or reuse) a simulation of `top` from `sources` in the st3d cache. */
export async function buildSimCached(sim: Sim, sources: SimSource[], top: string, opts: BuildOptions = {}): Promise<SimBuild> {
  const log = opts.log ?? (() => {});
  const tool = sim === "verilator" ? await toolVersion("verilator", ["--version"]) : await toolVersion("iverilog", ["-V"]);
  if (tool === "missing") throw new ToolFailedError(sim, "", `${sim === "verilator" ? "verilator" : "iverilog"} not found. Fix: run 'npm run setup' (or: sudo apt-get install -y ${sim === "verilator" ? "verilator" : "iverilog"})`);
  // Icarus writes either format at run time; only Verilator compiles the trace format in
  const wavesBuild = opts.waves ? (sim === "verilator" ? opts.waves : "vcd") : undefined;
  const srcs = sources.map((s) => `src/${s.path}`);
  const bc = buildCommand(sim, srcs, top, wavesBuild, !!opts.probes, opts.defines);
  const key = cacheKey("st3d-sim/1", sim, tool, top, JSON.stringify(bc), ...sources.flatMap((s) => [s.path, s.content]));
  const entry = await cached<EntryValue>(
    "sim",
    `${sim}-${key}`,
    async (tmp) => {
      for (const s of sources) {
        const p = path.join(tmp, "src", s.path);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, s.content);
      }
      fs.writeFileSync(
        path.join(tmp, "build.sh"),
        `#!/bin/sh\n# Rebuild this simulation of ${top} by hand (st3d run builds it exactly so, with ${tool}).\nset -e\ncd "$(dirname "$0")"\n${[bc.cmd, ...bc.args].map(shq).join(" ")}\n${bc.after ? bc.after + "\n" : ""}`,
        { mode: 0o777 },
      );
      const res = await runStreaming(bc.cmd, bc.args, { cwd: tmp });
      fs.writeFileSync(path.join(tmp, "build.log"), res.output);
      if (sim === "verilator" && res.code === 0 && fs.existsSync(path.join(tmp, "obj_dir", "simv"))) {
        fs.renameSync(path.join(tmp, "obj_dir", "simv"), path.join(tmp, "simv"));
        fs.rmSync(path.join(tmp, "obj_dir"), { recursive: true, force: true });
      }
      if (res.code !== 0 || !fs.existsSync(path.join(tmp, bc.bin))) throw new ToolFailedError(bc.cmd, res.output, `${bc.cmd} build of ${top} failed:\n${tail(res.output)}`);
      return { bin: bc.bin, tool };
    },
    { root: opts.root, log },
  );
  return { sim, top, entry: entry.dir, bin: path.join(entry.dir, entry.value.bin), binName: entry.value.bin, waves: wavesBuild, hit: entry.hit, rebuilt: entry.rebuilt };
}

/** The command line that runs a build with plusargs (bin may be replaced, e.g. by a kept copy). */
export function simCommand(b: Pick<SimBuild, "sim">, bin: string, plusargs: string[], opts: { seed?: number; fst?: boolean } = {}): { cmd: string; args: string[] } {
  if (b.sim === "verilator") return { cmd: bin, args: [...plusargs, ...verilatorRunArgs(opts.seed ?? 1)] };
  return { cmd: "vvp", args: ["-n", bin, ...(opts.fst ? ["-fst"] : []), ...plusargs] };
}

export interface SimRun {
  pass: boolean;
  code: number;
  output: string;
  lines: string[];
}

/** Run a build in `cwd` (a private folder), streaming its lines to `onLine`. */
export async function runSimStreaming(b: SimBuild, plusargs: string[], opts: { cwd: string; seed?: number; fst?: boolean; onLine?: (l: string) => void }): Promise<SimRun> {
  const { cmd, args } = simCommand(b, b.bin, plusargs, opts);
  const res = await runStreaming(cmd, args, { cwd: opts.cwd, onLine: opts.onLine });
  const lines = res.output.split("\n").map((l) => l.trim());
  const pass = res.code === 0 && lines.some((l) => /^PASS\b/.test(l)) && !lines.some((l) => /^FAIL\b/.test(l));
  return { pass, code: res.code, output: res.output, lines };
}

export { shq };
