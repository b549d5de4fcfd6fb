/**
 * Activity of a real simulation, for the power model (generator/physical/power.ts).  Simulation
 * only, compiled in by `st3d run` with `+define+ST3D_ACTIVITY` (lint and synthesis never see it):
 *   - every SRAM macro model and every logical-memory wrapper counts its reads and writes
 *     while the chip's `busy` is high (generator/blocks/memory templates);
 *   - a monitor module (this file, `activityMonitor`) counts, on every rising clock edge while
 *     `busy`, the bit toggles of every net between top-level instances and the cycles in which
 *     some output of each instance changed (its active cycles);
 *   - at the end of the run the host testbench fires `st3d_activity_dump`, and every counter
 *     prints one `ST3D_ACT ...` line, parsed by `parseActivity` into run.json's `activity`.
 * Only the inference counts (busy high), not the host loading the weights.
 */
import type { Resolved } from "../config/resolve.ts";
import { fileHeader } from "../render/render.ts";
import type { GeneratedFile } from "../core/files.ts";
import { CHIP, netInfo, type Netlist, type Tier } from "../top/netlist.ts";

export const activityModule = (name: string) => `${name}_st3d_activity`;

export interface NetActivity {
  width: number;
  /** bit toggles while busy (sum over bits) */
  toggles: number;
  driver: string;
}

export interface Activity {
  /** clock cycles with busy high (the inference) */
  cycles: number;
  /** per top-level net between instances */
  nets: Record<string, NetActivity>;
  /** per top-level logic/memory instance: cycles in which one of its outputs changed */
  activeCycles: Record<string, number>;
  /** per SRAM macro instance (hierarchical path below the DUT): type, reads, writes */
  macros: { path: string; macro: string; reads: number; writes: number }[];
  /** per logical memory (top-level instance): module, reads, writes */
  memories: Record<string, { module: string; reads: number; writes: number }>;
}

/**
 * The monitor of a view's nets.  `tierOf` null for the 2D top; for the 3D assembly every net is
 * read inside the tier of its driver (`dut.u_tier_<t>.<net>`).
 */
export function activityMonitor(r: Pick<Resolved, "name" | "version" | "hash">, nl: Netlist, tbModule: string, tierOf: ((inst: string) => Tier) | null): GeneratedFile {
  const mod = activityModule(r.name);
  const nets = [...netInfo(nl).values()].filter((n) => n.driver && n.driver.inst !== CHIP && n.sinks.some((s) => s.inst !== n.driver!.inst)).sort((a, b) => (a.name < b.name ? -1 : 1));
  const widths = [...new Set(nets.map((n) => n.width))].sort((a, b) => a - b);
  const ref = (n: { name: string; driver: { inst: string } | null }) => `${tbModule}.dut.${tierOf ? `u_tier_${tierOf(n.driver!.inst)}.` : ""}${n.name}`;
  const cw = (w: number) => Math.max(1, Math.ceil(Math.log2(w + 1)));
  const out: string[] = [];
  out.push(`// ${mod}: st3d run activity monitor of ${nl.module}${tierOf ? " (3D view: nets read in their driver's tier)" : ""} (simulation only).`);
  out.push(`// Counts, while ${tbModule}.busy, the toggles of every net between top-level instances and the`);
  out.push(`// active cycles of every instance; prints them on ${tbModule}.st3d_activity_dump.`);
  out.push(`module ${mod};`);
  for (const w of widths) {
    out.push(`  function [${cw(w) - 1}:0] pop${w};`);
    out.push(`    input [${w - 1}:0] v;`);
    out.push(`    integer i;`);
    out.push(`    begin`);
    out.push(`      pop${w} = 0;`);
    out.push(`      for (i = 0; i < ${w}; i = i + 1) pop${w} = pop${w} + v[i];`);
    out.push(`    end`);
    out.push(`  endfunction`);
  }
  out.push(`  reg [63:0] cycles = 64'd0;`);
  nets.forEach((n, i) => {
    out.push(`  reg [${n.width - 1}:0] p${i};`);
    out.push(`  reg [63:0] t${i} = 64'd0;`);
  });
  const insts = [...new Set(nets.map((n) => n.driver!.inst))].sort();
  insts.forEach((inst, k) => out.push(`  reg [63:0] a${k} = 64'd0; // ${inst}`));
  out.push(`  always @(posedge ${tbModule}.clk) begin`);
  nets.forEach((n, i) => out.push(`    p${i} <= ${ref(n)};`));
  out.push(`    if (${tbModule}.busy) begin`);
  out.push(`      cycles <= cycles + 64'd1;`);
  nets.forEach((n, i) => out.push(`      t${i} <= t${i} + pop${n.width}(${ref(n)} ^ p${i});`));
  insts.forEach((inst, k) => {
    const mine = nets.map((n, i) => ({ n, i })).filter((x) => x.n.driver!.inst === inst);
    out.push(`      if (${mine.map((x) => `(${ref(x.n)} != p${x.i})`).join(" || ")}) a${k} <= a${k} + 64'd1;`);
  });
  out.push(`    end`);
  out.push(`  end`);
  out.push(`  always @(${tbModule}.st3d_activity_dump) begin`);
  out.push(`    $display("ST3D_ACT cycles %0d", cycles);`);
  nets.forEach((n, i) => out.push(`    $display("ST3D_ACT net ${n.name} ${n.width} ${n.driver!.inst} %0d", t${i});`));
  insts.forEach((inst, k) => out.push(`    $display("ST3D_ACT inst ${inst} %0d", a${k});`));
  out.push(`  end`);
  out.push(`endmodule`);
  return { path: `${mod}.v`, kind: "sim", content: fileHeader(r, `${mod}.v`, "st3d run activity monitor (simulation only)", "generator/physical/activity.ts") + out.join("\n") + "\n" };
}

/** Defines that compile the counters in. */
export function activityDefines(r: Pick<Resolved, "name">, tbModule: string): Record<string, string> {
  return { ST3D_ACTIVITY: "1", ST3D_TB: tbModule, ST3D_ACTIVITY_MONITOR: activityModule(r.name) };
}

/** The top-level instance of a hierarchical path printed by %m: `<tb>.dut.u_mem_x.u_b0c0` (or `.dut.u_tier_top.u_mem_x...`). */
export function instanceOfPath(p: string): string {
  const parts = p.replace(/^TOP\./, "").split(".");
  const i = parts.indexOf("dut");
  const rest = parts.slice(i + 1);
  return /^u_tier_(top|bottom)$/.test(rest[0] ?? "") ? (rest[1] ?? rest[0]) : (rest[0] ?? p);
}

/** Parse the `ST3D_ACT` lines of a simulation's output. */
export function parseActivity(output: string): Activity | null {
  const lines = output.split("\n").filter((l) => l.startsWith("ST3D_ACT "));
  if (!lines.length) return null;
  const a: Activity = { cycles: 0, nets: {}, activeCycles: {}, macros: [], memories: {} };
  for (const l of lines) {
    const t = l.trim().split(/\s+/);
    switch (t[1]) {
      case "cycles":
        a.cycles = Number(t[2]);
        break;
      case "net":
        a.nets[t[2]] = { width: Number(t[3]), driver: t[4], toggles: Number(t[5]) };
        break;
      case "inst":
        a.activeCycles[t[2]] = Number(t[3]);
        break;
      case "macro":
        a.macros.push({ path: t[2].replace(/^TOP\./, ""), macro: t[3], reads: Number(t[4]), writes: Number(t[5]) });
        break;
      case "mem":
        a.memories[instanceOfPath(t[2])] = { module: t[3], reads: Number(t[4]), writes: Number(t[5]) };
        break;
    }
  }
  a.macros.sort((x, y) => (x.path < y.path ? -1 : 1));
  return a;
}
