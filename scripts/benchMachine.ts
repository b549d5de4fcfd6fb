/**
 * The machine a benchmark ran on, for its JSON and Markdown reports (scripts/bench*.ts): CPU,
 * cores, memory, OS, Node, the simulators' versions, and the load average at the start (set
 * loadAverageEnd with `endLoad` when done), so that a figure measured on a shared machine says so.
 */
import { execFileSync } from "node:child_process";
import os from "node:os";

/** First line of `cmd a...` (or of its stdout when it exits non-zero), "unknown" if it cannot run. */
export function toolVersion(cmd: string, a: string[]): string {
  try {
    return execFileSync(cmd, a, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0].trim();
  } catch (e) {
    return ((e as { stdout?: string }).stdout ?? "").split("\n")[0].trim() || "unknown";
  }
}

const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));

export interface Machine {
  cpu: string;
  cores: number;
  memGiB: number;
  os: string;
  node: string;
  verilator: string;
  icarus: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
}

export function machineInfo(): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    verilator: toolVersion("verilator", ["--version"]),
    icarus: toolVersion("iverilog", ["-V"]),
    loadAverageStart: load(),
    loadAverageEnd: [],
  };
}

export function endLoad(m: Machine): void {
  m.loadAverageEnd = load();
}
