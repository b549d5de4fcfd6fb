/**
 * Waveforms of `st3d run --waves`: the VCD header reader (to check a dump opens), the cut of a
 * VCD at the end of a cycle window (Verilator ignores $dumpoff), and FST conversion through
 * GTKWave's vcd2fst / fst2vcd.
 *
 * Cycle c of the host testbench (its `cycle` counter, run.json `events`) is the clock period
 * that starts at time 10·c ns (the clock has a 10 ns period, first rising edge at 5 ns).
 */
import fs from "node:fs";
import readline from "node:readline";
import { execa } from "execa";
import { run, which } from "../toolchain/tools.ts";

export const CLOCK_PERIOD_NS = 10;

const UNIT_FS: Record<string, number> = { s: 1e15, ms: 1e12, us: 1e9, ns: 1e6, ps: 1e3, fs: 1 };

export interface VcdHeader {
  /** one time unit of the file, in femtoseconds */
  timescaleFs: number;
  scopes: string[];
  vars: { id: string; name: string; width: number; scope: string }[];
  /** first and last timestamps found after the header (undefined when none) */
  firstTime?: number;
  lastTime?: number;
}

export class VcdError extends Error {
  override name = "VcdError";
}

/** Parse a VCD (header fully, body for its timestamps); throws VcdError when it is not one. */
export function parseVcd(text: string): VcdHeader {
  const tokens = text.split(/\s+/).filter(Boolean);
  let i = 0;
  let timescaleFs: number | undefined;
  const scopes: string[] = [];
  const stack: string[] = [];
  const vars: VcdHeader["vars"] = [];
  let ended = false;
  const until = (): string[] => {
    const out: string[] = [];
    while (i < tokens.length && tokens[i] !== "$end") out.push(tokens[i++]);
    if (i >= tokens.length) throw new VcdError("unterminated section (no $end)");
    i++;
    return out;
  };
  while (i < tokens.length && !ended) {
    const t = tokens[i++];
    switch (t) {
      case "$date":
      case "$version":
      case "$comment":
        until();
        break;
      case "$timescale": {
        const s = until().join("");
        const m = /^(1|10|100)(s|ms|us|ns|ps|fs)$/.exec(s);
        if (!m) throw new VcdError(`bad $timescale '${s}'`);
        timescaleFs = Number(m[1]) * UNIT_FS[m[2]];
        break;
      }
      case "$scope": {
        const s = until();
        if (s.length < 2) throw new VcdError("bad $scope");
        stack.push(s[1]);
        scopes.push(stack.join("."));
        break;
      }
      case "$upscope":
        until();
        if (!stack.length) throw new VcdError("$upscope without $scope");
        stack.pop();
        break;
      case "$var": {
        const v = until();
        if (v.length < 4 || !/^\d+$/.test(v[1])) throw new VcdError(`bad $var '${v.join(" ")}'`);
        vars.push({ id: v[2], name: v[3], width: Number(v[1]), scope: stack.join(".") });
        break;
      }
      case "$enddefinitions":
        until();
        ended = true;
        break;
      default:
        throw new VcdError(`unexpected '${t.slice(0, 40)}' in the VCD header`);
    }
  }
  if (!ended) throw new VcdError("no $enddefinitions");
  if (timescaleFs === undefined) throw new VcdError("no $timescale");
  if (!vars.length) throw new VcdError("no $var");
  if (stack.length) throw new VcdError("unbalanced $scope");
  // the body, line by line: "#<time>" lines (identifiers may contain '#': only a line's first token counts)
  let firstTime: number | undefined;
  let lastTime: number | undefined;
  const at = text.indexOf("$enddefinitions");
  const body = text.slice(text.indexOf("$end", at + 15) + 4);
  for (const raw of body.split("\n")) {
    const line = raw.trim();
    if (line[0] !== "#") continue;
    if (!/^#\d+$/.test(line)) throw new VcdError(`bad timestamp '${line.slice(0, 40)}'`);
    const n = Number(line.slice(1));
    if (lastTime !== undefined && n < lastTime) throw new VcdError(`timestamps go backwards (${line})`);
    firstTime ??= n;
    lastTime = n;
  }
  return { timescaleFs, scopes, vars, firstTime, lastTime };
}

/** Time (in the file's units) where cycle `c` starts. */
export function cycleTime(c: number, timescaleFs: number): number {
  return Math.round((c * CLOCK_PERIOD_NS * UNIT_FS.ns) / timescaleFs);
}

/**
 * Cut a VCD file after the end of cycle `toCycle` (drops every later timestamp and its
 * changes), streaming (dumps can be large).
 */
export async function cutVcd(file: string, toCycle: number): Promise<void> {
  const tmp = `${file}.cut-${process.pid}`;
  const out = fs.createWriteStream(tmp);
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let header = "";
  let inHeader = true;
  let tEnd = Infinity;
  let stop = false;
  const write = (s: string) => new Promise<void>((res) => (out.write(s) ? res() : out.once("drain", () => res())));
  for await (const line of rl) {
    if (stop) break;
    if (inHeader) {
      header += line + "\n";
      await write(line + "\n");
      if (line.includes("$enddefinitions")) {
        inHeader = false;
        const m = /\$timescale\s+(1|10|100)\s*(s|ms|us|ns|ps|fs)\s+\$end/.exec(header);
        if (!m) throw new VcdError(`${file}: no $timescale before $enddefinitions`);
        tEnd = cycleTime(toCycle + 1, Number(m[1]) * UNIT_FS[m[2]]);
      }
      continue;
    }
    if (line.startsWith("#") && Number(line.slice(1)) > tEnd) {
      stop = true;
      continue;
    }
    await write(line + "\n");
  }
  rl.close();
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
  fs.renameSync(tmp, file);
}

export const GTKWAVE_FIX = "install GTKWave's converters: sudo apt-get install -y gtkwave (or 'npm run setup')";

/** VCD → FST with GTKWave's vcd2fst. */
export async function vcdToFst(vcd: string, fst: string): Promise<void> {
  if (!which("vcd2fst")) throw new VcdError(`vcd2fst not found: ${GTKWAVE_FIX}`);
  const r = await run("vcd2fst", [vcd, fst]);
  if (r.code !== 0 || !fs.existsSync(fst)) throw new VcdError(`vcd2fst ${vcd} failed: ${r.output.trim().split("\n").slice(-3).join(" ")}`);
}

/** FST → VCD text with GTKWave's fst2vcd (to read an FST dump). */
export async function fstToVcdText(fst: string): Promise<string> {
  if (!which("fst2vcd")) throw new VcdError(`fst2vcd not found: ${GTKWAVE_FIX}`);
  const r = await execa("fst2vcd", [fst], { reject: false, stdin: "ignore", maxBuffer: 1 << 30 });
  if (r.exitCode !== 0) throw new VcdError(`fst2vcd ${fst} failed: ${String(r.stderr).trim().split("\n").slice(-3).join(" ")}`);
  return String(r.stdout);
}
