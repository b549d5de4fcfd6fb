/** Icarus Verilog: compile with iverilog -g2005, run with vvp. */
import fs from "node:fs";
import path from "node:path";
import { run, ToolFailedError } from "./tools.ts";
import { tail } from "./verilator.ts";

export async function icarusBuild(files: string[], top: string, workDir: string, defines: Record<string, string | number> = {}): Promise<string> {
  fs.mkdirSync(workDir, { recursive: true });
  const out = path.join(workDir, `${top}.vvp`);
  const args = icarusBuildArgs(
    files.map((f) => path.resolve(f)),
    top,
    out,
    defines,
  );
  const res = await run("iverilog", args, { cwd: workDir });
  if (res.code !== 0 || !fs.existsSync(out)) throw new ToolFailedError("iverilog", res.output, `iverilog build of ${top} failed:\n${tail(res.output)}`);
  return out;
}

export async function icarusRun(vvpFile: string, plusargs: string[], cwd: string) {
  return run("vvp", ["-n", vvpFile, ...plusargs], { cwd });
}

/** The arguments of an `iverilog -g2005` build into `out` (a .vvp file). */
export function icarusBuildArgs(files: string[], top: string, out: string, defines: Record<string, string | number> = {}): string[] {
  return ["-g2005", "-Wall", "-Wno-timescale", "-s", top, "-o", out, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`), ...files];
}
