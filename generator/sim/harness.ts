/**
 * Simulation harness shared by every block's tests and by `st3d run`:
 * build a testbench on Icarus or Verilator, run it with plusargs, and demand
 * the one-line verdict "PASS <name>" (a testbench prints "FAIL ..." and calls
 * $fatal on any mismatch).  Also: hex files for $readmemh (words packed by util/lanes.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { icarusRun } from "../toolchain/icarus.ts";
import { verilatorRun, tail } from "../toolchain/verilator.ts";
import { buildSimCached } from "../run/sim.ts";
import { REPO_ROOT } from "../core/paths.ts";

export type Sim = "icarus" | "verilator";
export const SIMS: Sim[] = ["icarus", "verilator"];

export interface Built {
  sim: Sim;
  bin: string;
  workDir: string;
}

export function buildDir(...parts: string[]): string {
  const d = path.join(REPO_ROOT, "build", ...parts);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/**
 * Build a testbench: the simulation itself comes from the st3d cache (generator/run/sim.ts:
 * keyed by the sources' contents, the top, the defines and the tool version; built privately
 * and published atomically, so concurrent test runs never share a half-built folder);
 * `workDir/<sim>` is a fresh private folder the simulation runs in (stimulus files go there).
 */
export async function buildSim(sim: Sim, files: string[], top: string, workDir: string, defines: Record<string, string | number> = {}): Promise<Built> {
  const dir = path.join(workDir, sim);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const taken = new Set<string>();
  const sources = files.map((f, i) => {
    let name = path.basename(f);
    if (taken.has(name)) name = `${i}_${name}`;
    taken.add(name);
    return { path: name, content: fs.readFileSync(f, "utf8") };
  });
  const b = await buildSimCached(sim, sources, top, { defines });
  return { sim, bin: b.bin, workDir: dir };
}

export interface SimResult {
  pass: boolean;
  output: string;
  code: number;
  /** lines the testbench printed that start with a key, e.g. "CYCLES 123" */
  lines: string[];
}

export async function runSim(b: Built, plusargs: string[] = [], seed = 1): Promise<SimResult> {
  const res = b.sim === "icarus" ? await icarusRun(b.bin, plusargs, b.workDir) : await verilatorRun(b.bin, plusargs, seed, b.workDir);
  const lines = res.output.split("\n").map((l) => l.trim());
  const pass = res.code === 0 && lines.some((l) => /^PASS\b/.test(l)) && !lines.some((l) => /^FAIL\b/.test(l));
  return { pass, output: res.output, code: res.code, lines };
}

/** Run and throw (with the simulator's last lines) unless the testbench printed PASS and exited 0. */
export async function runSimExpectPass(b: Built, plusargs: string[] = [], seed = 1): Promise<SimResult> {
  const r = await runSim(b, plusargs, seed);
  if (!r.pass) throw new Error(`${b.sim} simulation did not pass (exit ${r.code}):\n${tail(r.output, 40)}`);
  return r;
}

/** Value printed by the testbench on a line "KEY value". */
export function simValue(r: SimResult, key: string): number {
  const l = r.lines.find((x) => x.startsWith(key + " "));
  if (!l) throw new Error(`testbench printed no '${key}' line`);
  return Number(l.slice(key.length + 1).trim());
}

export function writeHexFile(file: string, words: string[]): void {
  fs.writeFileSync(file, words.join("\n") + "\n");
}
