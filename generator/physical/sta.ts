/**
 * Static timing and logic power of one view with OpenSTA (`sta` 2.0.17), on the view's flat
 * mapped netlist (./synth.ts flatView), the cell library, the macro liberties and st3d's tie
 * cells.  One OpenSTA session per view:
 *   1. logic power per top-level instance, before any wire parasitics (wires are charged
 *      separately, ./power.ts): `set_power_activity -global` at activity 0 (clocks only) and 1
 *      (every data net toggling once a cycle), `sta::instance_power` summed per block;
 *      OpenSTA's power is linear in the activity, so any measured activity a gives
 *      P(a) = P(0) + a·(P(1) − P(0)) exactly (./power.ts);
 *   2. the SDC (sdcText) and the SPEF of the inter-instance wires (./parasitics.ts);
 *   3. worst slack, WNS, TNS, the critical path (start, end, every pin with its block).
 * fmax = 1 / (T − worst slack); f_eff = 1 / (T − WNS) with WNS = min(0, worst slack).
 */
import fs from "node:fs";
import path from "node:path";
import { run, ToolFailedError, requireTool } from "../toolchain/tools.ts";
import type { CellLibrary } from "./library.ts";

/** I/O delay as a fraction of the period (ORFS constraint.sdc convention `clk_io_pct 0.2`). */
export const IO_PCT = 0.2;

export interface SdcOptions {
  periodNs: number;
  clock: string;
  lib: CellLibrary;
}

/** The SDC of a view: one clock, I/O delays on every non-clock port, a library buffer driving the inputs, four buffer inputs loading the outputs. */
export function sdcText(o: SdcOptions): string {
  const b = o.lib.buffer;
  const cell = o.lib.lib.cells.get(b.cell)!;
  const cin = cell.pins.find((p) => p.name === b.input)!.capPf;
  const io = o.periodNs * IO_PCT;
  return [
    `# st3d: generated constraints (period ${o.periodNs} ns; I/O delays ${IO_PCT * 100}% of the period, ORFS clk_io_pct convention)`,
    `create_clock -name ${o.clock} -period ${o.periodNs} [get_ports ${o.clock}]`,
    `set st3d_in [delete_from_list [all_inputs] [get_ports ${o.clock}]]`,
    `set_input_delay ${io.toFixed(4)} -clock ${o.clock} $st3d_in`,
    `set_output_delay ${io.toFixed(4)} -clock ${o.clock} [all_outputs]`,
    `set_driving_cell -lib_cell ${b.cell} -pin ${b.output} $st3d_in`,
    `set_load ${(4 * cin).toFixed(6)} [all_outputs]`,
    "",
  ].join("\n");
}

export interface PathPoint {
  pin: string;
  cell: string;
  /** top-level instance ("<top>" for ports) */
  block: string;
  delayNs: number;
  arrivalNs: number;
  rise: boolean;
}

export interface CriticalPath {
  startpoint: string;
  endpoint: string;
  arrivalNs: number;
  requiredNs: number;
  slackNs: number;
  /** consecutive blocks along the path with the delay spent in each */
  blocks: { block: string; delayNs: number }[];
  points: PathPoint[];
}

export interface BlockPower {
  block: string;
  /** W at the STA clock: internal, switching, leakage */
  internal: number;
  switching: number;
  leakage: number;
  cells: number;
}

export interface StaResult {
  top: string;
  periodNs: number;
  worstSlackNs: number;
  wnsNs: number;
  tnsNs: number;
  fmaxMHz: number;
  fEffMHz: number;
  critical: CriticalPath | null;
  /** worst slack of the paths ending in each block (its flip-flops and macro inputs), ns */
  blockSlackNs: Record<string, number>;
  /** per block, activity 0 and activity 1 */
  power0: BlockPower[];
  power1: BlockPower[];
  seconds: number;
  /** files of this run (tcl, sdc, spef, log) */
  dir: string;
}

const TCL_BLOCK = `proc st3d_blk {n threeD} {
  set p [split $n .]
  if {[llength $p] < 2} { return "<top>" }
  set a [lindex $p 0]
  if {$threeD && [string match u_tier_* $a]} { if {[llength $p] > 2} { return [lindex $p 1] } else { return $a } }
  return $a
}
proc st3d_power {tag threeD} {
  set corner [sta::cmd_corner]
  array set i {}; array set s {}; array set l {}; array set n {}
  foreach c [get_cells *] {
    if {[string match fakeram45* [get_property $c ref_name]]} { continue }
    set b [st3d_blk [get_full_name $c] $threeD]
    set p [sta::instance_power $c $corner]
    if {![info exists n($b)]} { set i($b) 0.0; set s($b) 0.0; set l($b) 0.0; set n($b) 0 }
    set i($b) [expr {$i($b) + [lindex $p 0]}]
    set s($b) [expr {$s($b) + [lindex $p 1]}]
    set l($b) [expr {$l($b) + [lindex $p 2]}]
    incr n($b)
  }
  foreach b [lsort [array names n]] { puts "ST3D_PWR $tag $b $i($b) $s($b) $l($b) $n($b)" }
}
proc st3d_block_slacks {threeD} {
  array set e {}
  foreach p [all_registers -data_pins] {
    set n [get_full_name $p]
    set b [st3d_blk [string range $n 0 [expr {[string last / $n] - 1}]] $threeD]
    lappend e($b) $p
  }
  foreach c [get_cells *] {
    if {![string match fakeram45* [get_property $c ref_name]]} { continue }
    set cn [get_full_name $c]
    set b [st3d_blk $cn $threeD]
    foreach p [get_pins $cn/*] {
      if {[get_property $p direction] == "input" && ![string match */clk [get_full_name $p]]} { lappend e($b) $p }
    }
  }
  foreach b [lsort [array names e]] {
    puts "ST3D_BLOCK_BEGIN $b"
    report_checks -path_delay max -to $e($b) -format end -group_count 1 -digits 4
    puts "ST3D_BLOCK_END"
  }
}
`;

export interface StaInputs {
  top: string;
  lib: CellLibrary;
  netlist: string;
  extraLibs: readonly string[];
  periodNs: number;
  spef?: string;
  /** or a SPEF already on disk */
  spefFile?: string;
  threeD: boolean;
  /** where the run's files go (created) */
  dir: string;
  /** also the logic power sums (default true) */
  power?: boolean;
}

/** Run OpenSTA on one view and parse its answers. */
export async function runSta(input: StaInputs): Promise<StaResult> {
  requireTool("sta");
  const inp = { ...input, dir: path.resolve(input.dir), netlist: path.resolve(input.netlist), extraLibs: input.extraLibs.map((l) => path.resolve(l)) };
  fs.mkdirSync(inp.dir, { recursive: true });
  const sdc = path.join(inp.dir, `${inp.top}.sdc`);
  fs.writeFileSync(sdc, sdcText({ periodNs: inp.periodNs, clock: "clk", lib: inp.lib }));
  let spefFile: string | undefined = inp.spefFile ? path.resolve(inp.spefFile) : undefined;
  if (inp.spef !== undefined) {
    spefFile = path.join(inp.dir, `${inp.top}.spef`);
    fs.writeFileSync(spefFile, inp.spef);
  }
  const tcl = [
    TCL_BLOCK,
    `read_liberty ${inp.lib.liberty}`,
    ...inp.extraLibs.map((l) => `read_liberty ${l}`),
    `read_verilog ${inp.netlist}`,
    `link_design ${inp.top}`,
    `read_sdc ${sdc}`,
    ...(inp.power === false
      ? []
      : ["set_power_activity -global -activity 0.0 -duty 0.5", `st3d_power 0 ${inp.threeD ? 1 : 0}`, "set_power_activity -global -activity 1.0 -duty 0.5", `st3d_power 1 ${inp.threeD ? 1 : 0}`]),
    ...(spefFile ? [`read_spef ${spefFile}`] : []),
    'puts "ST3D_WORST [sta::worst_slack_cmd max]"',
    'puts "ST3D_TNS [sta::total_negative_slack_cmd max]"',
    `st3d_block_slacks ${inp.threeD ? 1 : 0}`,
    'puts "ST3D_PATH_BEGIN"',
    "report_checks -path_delay max -format full -digits 4",
    'puts "ST3D_PATH_END"',
    "exit",
    "",
  ].join("\n");
  const tclFile = path.join(inp.dir, `${inp.top}.tcl`);
  fs.writeFileSync(tclFile, tcl);
  const t0 = Date.now();
  const res = await run("sta", ["-no_init", "-no_splash", "-exit", tclFile], { cwd: inp.dir, timeoutMs: 12 * 3600_000 });
  fs.writeFileSync(path.join(inp.dir, `${inp.top}.sta.log`), res.output);
  const seconds = (Date.now() - t0) / 1000;
  const worstLine = res.output.match(/^ST3D_WORST (\S+)/m);
  if (res.code !== 0 || !worstLine) {
    const errs = res.output.split("\n").filter((l) => /^Error/.test(l)).slice(0, 10).join("\n");
    throw new ToolFailedError("sta", res.output, `OpenSTA failed on ${inp.top} (exit ${res.code}; log ${path.join(inp.dir, `${inp.top}.sta.log`)}):\n${errs || res.output.split("\n").slice(-15).join("\n")}`);
  }
  // the Tcl commands answer in SI units (seconds, watts); report_checks in the first library's unit (ns)
  const worstNs = toNs(Number(worstLine[1]));
  const tnsNs = toNs(Number(res.output.match(/^ST3D_TNS (\S+)/m)?.[1] ?? 0));
  const wnsNs = Math.min(0, worstNs);
  const body = res.output.slice(res.output.indexOf("ST3D_PATH_BEGIN"), res.output.indexOf("ST3D_PATH_END"));
  const critical = parsePath(body, inp.threeD);
  const pw = (tag: string) =>
    [...res.output.matchAll(new RegExp(`^ST3D_PWR ${tag} (\\S+) (\\S+) (\\S+) (\\S+) (\\d+)`, "gm"))].map((m) => ({ block: m[1], internal: Number(m[2]), switching: Number(m[3]), leakage: Number(m[4]), cells: Number(m[5]) }));
  const blockSlackNs: Record<string, number> = {};
  for (const m of res.output.matchAll(/^ST3D_BLOCK_BEGIN (\S+)\n([\s\S]*?)^ST3D_BLOCK_END/gm)) {
    const slacks = [...m[2].matchAll(/^\S+\s+\([^)]*\)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)/gm)].map((x) => Number(x[3]));
    if (slacks.length) blockSlackNs[m[1]] = Math.min(...slacks);
  }
  const power0 = pw("0");
  const power1 = pw("1");
  for (const p of [...power0, ...power1]) if (![p.internal, p.switching, p.leakage].every(Number.isFinite)) throw new ToolFailedError("sta", res.output, `OpenSTA gave a non-numeric power for block ${p.block} of ${inp.top}`);
  return {
    top: inp.top,
    periodNs: inp.periodNs,
    worstSlackNs: worstNs,
    wnsNs,
    tnsNs: Math.min(0, tnsNs),
    fmaxMHz: 1000 / (inp.periodNs - worstNs),
    fEffMHz: 1000 / (inp.periodNs - wnsNs),
    critical,
    blockSlackNs,
    power0,
    power1,
    seconds,
    dir: inp.dir,
  };
}

/** sta::worst_slack_cmd / total_negative_slack_cmd return seconds (SI) in OpenSTA 2.0.17. */
function toNs(v: number): number {
  return Number.isFinite(v) ? v * 1e9 : 0;
}

/** Parse one `report_checks -format full` path. */
export function parsePath(text: string, threeD: boolean): CriticalPath | null {
  const sp = text.match(/^Startpoint: (\S+)/m);
  const ep = text.match(/^Endpoint: (\S+)/m);
  if (!sp || !ep) return null;
  const lines = text.split("\n");
  const points: PathPoint[] = [];
  let arrival = NaN;
  let required = NaN;
  let slack = NaN;
  let inData = false;
  for (const l of lines) {
    const m = l.match(/^\s+(-?[\d.]+)\s+(-?[\d.]+)\s+([\^v])\s+(\S+)\s+\(([^)]+)\)\s*$/);
    if (m && !inData) {
      const pin = m[4];
      const cell = m[5];
      const inst = pin.includes("/") ? pin.slice(0, pin.lastIndexOf("/")) : pin;
      const block = cell === "in" || cell === "out" ? "<top>" : blockName(inst, threeD);
      points.push({ pin, cell, block, delayNs: Number(m[1]), arrivalNs: Number(m[2]), rise: m[3] === "^" });
    }
    const a = l.match(/^\s+(-?[\d.]+)\s+data arrival time/);
    if (a && Number.isNaN(arrival)) {
      arrival = Number(a[1]);
      inData = true;
    }
    const r = l.match(/^\s+(-?[\d.]+)\s+data required time/);
    if (r && Number.isNaN(required)) required = Number(r[1]);
    const s = l.match(/^\s+(-?[\d.]+)\s+slack/);
    if (s) slack = Number(s[1]);
  }
  const blocks: { block: string; delayNs: number }[] = [];
  for (const p of points) {
    const last = blocks[blocks.length - 1];
    if (last && last.block === p.block) last.delayNs += p.delayNs;
    else blocks.push({ block: p.block, delayNs: p.delayNs });
  }
  return { startpoint: sp[1], endpoint: ep[1], arrivalNs: arrival, requiredNs: required, slackNs: slack, blocks, points };
}

function blockName(inst: string, threeD: boolean): string {
  const p = inst.split(".");
  if (p.length < 2) return "<top>";
  if (threeD && /^u_tier_(top|bottom)$/.test(p[0])) return p.length > 2 ? p[1] : p[0];
  return p[0];
}
