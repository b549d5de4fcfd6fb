/**
 * GrayWolf (qflow's standard-cell placer, Debian `graywolf` / `qflow`) on a mapped netlist, for
 * the wirelength calibration of the report (scripts/calibrate-wirelength.ts, docs/REPORT.md):
 *   structural Verilog on the cell library --Yosys write_blif -gates--> BLIF
 *   --qflow blif2cel.tcl (cells, pins and pads from the LEF)--> .cel,  + the technology's .par
 *   --graywolf -n--> .pl1 (cell placement), .pin (every pin of every net, placed)
 * and the half-perimeter wirelength of every net from the .pin file (feedthrough pins left
 * out), in µm.  Asynchronous, with a time limit.
 */
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { requireTool, ToolFailedError } from "./tools.ts";
import { runYosysScript } from "./yosys.ts";

export const QFLOW_SCRIPTS = "/usr/lib/qflow/scripts";

export interface PlaceResult {
  finished: boolean;
  seconds: number;
  /** Σ over nets of the half perimeter of its placed pins, µm (null when unfinished) */
  hpwlUm: number | null;
  nets: number;
  cells: number;
  /** bounding box of the placed cells, µm² */
  cellBoxUm2: number | null;
  /** annealing iterations GrayWolf reported (progress when it did not finish) */
  iterations: number;
  dir: string;
}

/**
 * Units per µm of the .cel / .pin coordinates, by blif2cel.tcl's rule: 100 (centimicrons),
 * raised to the first of 100, 200, 1000, 2000, 10000, 20000 that is a multiple of
 * 1 / MANUFACTURINGGRID when that is larger (OSU018: grid 0.05 µm -> 100).
 */
export function celUnits(lef: string): number {
  const m = fs.readFileSync(lef, "utf8").match(/^\s*MANUFACTURINGGRID\s+([0-9.eE+-]+)/m);
  if (!m) return 100;
  const grid = Math.round(1 / Number(m[1]));
  const scale = [100, 200, 1000, 2000, 10000, 20000].find((d) => d % grid === 0) ?? grid;
  return Math.max(100, scale);
}

export function hpwlFromPin(text: string, units: number): { hpwlUm: number; nets: number } {
  const box = new Map<string, [number, number, number, number]>();
  for (const line of text.split("\n")) {
    const t = line.trim().split(/\s+/);
    if (t.length < 6) continue;
    const [net, , , pin, xs, ys] = t;
    if (pin.startsWith("twfeed")) continue;
    const x = Number(xs);
    const y = Number(ys);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    const b = box.get(net);
    if (!b) box.set(net, [x, x, y, y]);
    else {
      b[0] = Math.min(b[0], x);
      b[1] = Math.max(b[1], x);
      b[2] = Math.min(b[2], y);
      b[3] = Math.max(b[3], y);
    }
  }
  let s = 0;
  for (const [, b] of box) s += b[1] - b[0] + (b[3] - b[2]);
  return { hpwlUm: s / units, nets: box.size };
}

/**
 * Place `module` of the structural Verilog `verilog` (cells of `liberty`/`lef`, plus any
 * `extraLibs` as blackboxes; cells named in `dropCells` — rail ties — are removed) in `dir`.
 */
function iterationsOf(outFile: string): number {
  return fs.existsSync(outFile) ? (fs.readFileSync(outFile, "utf8").match(/^\s*\d+:\s/gm) ?? []).length : 0;
}

export async function graywolfPlace(o: { verilog: string; module: string; liberty: string; lef: string; par: string; extraLibs?: string[]; dropCells?: string[]; dir: string; timeoutMs: number; onProgress?: (iterations: number) => void }): Promise<PlaceResult> {
  requireTool("graywolf");
  const dir = path.resolve(o.dir);
  fs.mkdirSync(dir, { recursive: true });
  const blif = path.join(dir, `${o.module}.blif`);
  const y = await runYosysScript([`read_liberty -lib ${o.liberty}`, ...(o.extraLibs ?? []).map((l) => `read_liberty -lib ${l}`), `read_verilog ${o.verilog}`, `hierarchy -top ${o.module}`, `write_blif -gates ${blif}`, ""].join("\n"), dir);
  if (y.code !== 0) throw new ToolFailedError("yosys", y.output, `yosys could not write the BLIF of ${o.module}`);
  const drop = new Set(o.dropCells ?? []);
  const lines = fs.readFileSync(blif, "utf8").split("\n");
  const kept = lines.filter((l) => !(l.startsWith(".gate ") && drop.has(l.split(/\s+/)[1])));
  fs.writeFileSync(blif, kept.join("\n"));
  const cells = kept.filter((l) => l.startsWith(".gate ")).length;
  const cel = path.join(dir, `${o.module}.cel`);
  const b2c = await execa(path.join(QFLOW_SCRIPTS, "blif2cel.tcl"), ["--blif", blif, "--lef", o.lef, "--cel", cel], { cwd: dir, reject: false, all: true });
  if (b2c.exitCode !== 0 || !fs.existsSync(cel)) throw new ToolFailedError("blif2cel.tcl", b2c.all ?? "", `qflow blif2cel.tcl failed on ${o.module}`);
  fs.copyFileSync(o.par, path.join(dir, `${o.module}.par`));
  const t0 = Date.now();
  // graywolf runs its stages as child processes: start it in its own process group and end the
  // whole group at the time limit (a plain kill would leave TimberWolfSC running, holding the pipes)
  const child = execa("graywolf", ["-n", o.module], { cwd: dir, reject: false, all: true, detached: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      /* already gone */
    }
  }, o.timeoutMs);
  const heartbeat = o.onProgress ? setInterval(() => o.onProgress!(iterationsOf(path.join(dir, `${o.module}.out`))), 5000) : null;
  const gw = await child;
  clearTimeout(timer);
  if (heartbeat) clearInterval(heartbeat);
  const seconds = (Date.now() - t0) / 1000;
  const outFile = path.join(dir, `${o.module}.out`);
  const out = fs.existsSync(outFile) ? fs.readFileSync(outFile, "utf8") : "";
  const iterations = (out.match(/^\s*\d+:\s/gm) ?? []).length;
  const pinFile = path.join(dir, `${o.module}.pin`);
  const finished = !timedOut && gw.exitCode === 0 && fs.existsSync(pinFile);
  if (!finished) return { finished: false, seconds, hpwlUm: null, nets: 0, cells, cellBoxUm2: null, iterations, dir };
  const units = celUnits(o.lef);
  const h = hpwlFromPin(fs.readFileSync(pinFile, "utf8"), units);
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const l of fs.readFileSync(path.join(dir, `${o.module}.pl1`), "utf8").split("\n")) {
    const t = l.trim().split(/\s+/);
    if (t.length < 5) continue;
    const [a, b, c, d] = t.slice(1, 5).map(Number);
    if (![a, b, c, d].every(Number.isFinite)) continue;
    x0 = Math.min(x0, a);
    y0 = Math.min(y0, b);
    x1 = Math.max(x1, c);
    y1 = Math.max(y1, d);
  }
  return { finished: true, seconds, hpwlUm: h.hpwlUm, nets: h.nets, cells, cellBoxUm2: ((x1 - x0) * (y1 - y0)) / (units * units), iterations, dir };
}
