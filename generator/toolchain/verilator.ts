/** Verilator: lint (-Wall), build a --binary simulation, run it. */
import fs from "node:fs";
import path from "node:path";
import { run, ToolFailedError } from "./tools.ts";

export interface LintResult {
  ok: boolean;
  warnings: string[];
  output: string;
}

/** `verilator --lint-only -Wall` over files with a chosen top; every %Warning/%Error line is returned. */
export async function verilatorLint(files: string[], top: string, extra: string[] = []): Promise<LintResult> {
  const res = await run("verilator", ["--lint-only", "-Wall", "--top-module", top, ...extra, ...files]);
  const warnings = res.output.split("\n").filter((l) => /^%(Warning|Error)/.test(l));
  return { ok: res.code === 0 && warnings.length === 0, warnings, output: res.output };
}

/**
 * Build a simulation binary with `verilator --binary --timing`.  Testbenches are
 * not held to -Wall (the DUT is, by verilatorLint); X values are randomized so
 * a design that depends on uninitialized state is caught.
 */
export async function verilatorBuild(files: string[], top: string, workDir: string, defines: Record<string, string | number> = {}): Promise<string> {
  fs.mkdirSync(workDir, { recursive: true });
  const mdir = path.join(workDir, "obj_dir");
  const args = verilatorBuildArgs(
    files.map((f) => path.resolve(f)),
    top,
    mdir,
    defines,
  );
  const res = await run("verilator", args, { cwd: workDir });
  const bin = path.join(mdir, "simv");
  if (res.code !== 0 || !fs.existsSync(bin)) throw new ToolFailedError("verilator", res.output, `verilator build of ${top} failed:\n${tail(res.output)}`);
  return bin;
}

/** The arguments of a `verilator --binary` build (binary `<mdir>/simv`); `extra` e.g. ["--trace"]. */
export function verilatorBuildArgs(files: string[], top: string, mdir: string, defines: Record<string, string | number> = {}, extra: string[] = []): string[] {
  return [
    "--binary",
    "--timing",
    "-Wno-fatal",
    "-Wno-lint",
    "-Wno-style",
    "--x-assign",
    "unique",
    "--x-initial",
    "unique",
    ...extra,
    "--top-module",
    top,
    "--Mdir",
    mdir,
    "-o",
    "simv",
    "-CFLAGS",
    "-O1",
    ...Object.entries(defines).map(([k, v]) => `+define+${k}=${v}`),
    ...files,
  ];
}

/** The plusargs every Verilator run gets (X randomized with a seed), after the caller's. */
export const verilatorRunArgs = (seed: number) => ["+verilator+rand+reset+2", `+verilator+seed+${seed}`];

/** Run a Verilator binary; randomizes initial values with the given seed. */
export async function verilatorRun(bin: string, plusargs: string[], seed: number, cwd: string) {
  return run(bin, [...plusargs, ...verilatorRunArgs(seed)], { cwd });
}

export function tail(s: string, n = 30): string {
  return s.split("\n").slice(-n).join("\n");
}
