/**
 * Wrappers around the external tools (execa).  A missing tool raises
 * ToolMissingError whose message is the one-line fix, never a crash.
 */
import fs from "node:fs";
import path from "node:path";
import type { execa as Execa } from "execa";

// execa is loaded when a tool first runs, not at start-up (it is the heaviest import of the CLI)
let execaFn: typeof Execa | undefined;
const loadExeca = async (): Promise<typeof Execa> => (execaFn ??= (await import("execa")).execa);

export class ToolMissingError extends Error {
  constructor(tool: string, fix: string) {
    super(`${tool} not found. Fix: ${fix}`);
    this.name = "ToolMissingError";
  }
}

export class ToolFailedError extends Error {
  constructor(
    readonly tool: string,
    readonly output: string,
    message: string,
  ) {
    super(message);
    this.name = "ToolFailedError";
  }
}

const FIX = "run 'npm run setup' (or: sudo apt-get install -y verilator iverilog yosys opensta qflow-tech-osu018)";

const whichCache = new Map<string, string | null>();
export function which(cmd: string): string | null {
  if (whichCache.has(cmd)) return whichCache.get(cmd)!;
  let found: string | null = null;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      found = p;
      break;
    } catch {
      /* keep looking */
    }
  }
  whichCache.set(cmd, found);
  return found;
}

export function requireTool(cmd: string): string {
  const p = which(cmd);
  if (!p) throw new ToolMissingError(cmd, FIX);
  return p;
}

export async function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}) {
  if (!path.isAbsolute(cmd)) requireTool(cmd);
  const execa = await loadExeca();
  const res = await execa(cmd, args, { cwd: opts.cwd, reject: false, all: true, timeout: opts.timeoutMs ?? 30 * 60_000, stdin: "ignore" });
  return { code: res.exitCode ?? -1, output: res.all ?? "", timedOut: res.timedOut };
}

/**
 * Run a command and hand every line of its output (stdout and stderr) to `onLine` as it comes
 * (the process keeps the event loop free, so progress heartbeats fire).  Returns the whole output.
 */
export async function runStreaming(cmd: string, args: string[], opts: { cwd?: string; timeoutMs?: number; onLine?: (line: string) => void } = {}) {
  if (!path.isAbsolute(cmd)) requireTool(cmd);
  const execa = await loadExeca();
  const sub = execa(cmd, args, { cwd: opts.cwd, reject: false, all: true, timeout: opts.timeoutMs ?? 24 * 3600_000, stdin: "ignore", buffer: { all: true } });
  let pending = "";
  sub.all?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) opts.onLine?.(l);
  });
  const res = await sub;
  if (pending) opts.onLine?.(pending);
  return { code: res.exitCode ?? -1, output: String(res.all ?? ""), timedOut: res.timedOut, signal: res.signal };
}

/** First line of `<tool> <args>` (a version string), cached per process; "missing" when absent. */
const versionCache = new Map<string, Promise<string>>();
export function toolVersion(cmd: string, args: string[]): Promise<string> {
  const k = [cmd, ...args].join(" ");
  let p = versionCache.get(k);
  if (!p) {
    p = (async () => {
      if (!which(cmd)) return "missing";
      const execa = await loadExeca();
      const r = await execa(cmd, args, { reject: false, all: true, stdin: "ignore", timeout: 20_000 });
      return String(r.all ?? "").split("\n")[0].trim();
    })();
    versionCache.set(k, p);
  }
  return p;
}

export async function toolVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const probes: [string, string[]][] = [
    ["verilator", ["--version"]],
    ["iverilog", ["-V"]],
    ["yosys", ["-V"]],
    ["sta", ["-version"]],
  ];
  for (const [cmd, args] of probes) {
    if (!which(cmd)) {
      out[cmd] = "missing";
      continue;
    }
    const execa = await loadExeca();
    const r = await execa(cmd, args, { reject: false, all: true, stdin: "ignore", timeout: 20_000 });
    out[cmd] = (r.all ?? "").split("\n")[0].trim();
  }
  return out;
}
