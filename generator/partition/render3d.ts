/**
 * Per-tier top modules and the 3D assembly, rendered from the one top-level Netlist and a
 * tier assignment (./partition.ts):
 *
 *   <name>_tier_bottom   chip I/O (all of it) + f2f_<net> ports; instances on the bottom die
 *   <name>_tier_top      f2f_<net> ports only; instances on the top die
 *   <name>_3d            the chip ports of <name>_top; both tiers, F2F ports wired together
 *
 * Inside a tier every net keeps its 2D name; a net driven on this tier and read on the other
 * is copied to its output port (`assign f2f_x = x;`), a net driven on the other tier is
 * copied from its input port (`assign x = f2f_x;`).  So the clock enters on the bottom die
 * and reaches the top die as f2f_clk (clock tree rooted on the bottom die), a chip input
 * used on the top die passes through the bottom die, and a chip output driven on the top
 * die comes back through the bond.  No power pins, no technology cells: power nets are
 * named per die in the reports and 3Dblox files only.
 */
import type { Resolved } from "../config/resolve.ts";
import { fileHeader } from "../render/render.ts";
import { CHIP, netInfo, type Netlist, type Tier } from "../top/netlist.ts";
import type { PortDecl } from "../blocks/block.ts";
import { f2fNets, type F2fNet } from "./partition.ts";
import type { GeneratedFile } from "../core/files.ts";

/** The tier tops and the assembly are printed here (no template); their headers say so. */
const THIS_MODULE = "generator/partition/render3d.ts";

export const TIERS: readonly Tier[] = ["bottom", "top"];
export const tierModule = (name: string, tier: Tier) => `${name}_tier_${tier}`;
export const assemblyModule = (name: string) => `${name}_3d`;

const rng = (w: number) => (w === 1 ? "" : `[${w - 1}:0] `);

function portList(ports: PortDecl[]): string[] {
  if (!ports.length) return [";"];
  return [" (", ports.map((p) => `  ${p.dir.padEnd(6)} wire ${rng(p.width)}${p.name}`).join(",\n"), ");"];
}

/** Ports of a tier top: chip ports (bottom die only), then one F2F port per crossing net. */
export function tierPorts(nl: Netlist, f2f: readonly F2fNet[], tier: Tier): PortDecl[] {
  const chip = tier === "bottom" ? nl.ports.map((p) => ({ ...p })) : [];
  return [...chip, ...f2f.map((f) => ({ name: f.port, dir: f.from === tier ? ("output" as const) : ("input" as const), width: f.width }))];
}

/** Verilog text of one tier top (module only, no file header). */
export function renderTierModule(name: string, nl: Netlist, assign: ReadonlyMap<string, Tier>, tier: Tier, f2f = f2fNets(nl, assign)): string {
  const nets = netInfo(nl);
  const mod = tierModule(name, tier);
  const on = (inst: string) => (inst === CHIP ? tier === "bottom" : assign.get(inst) === tier);
  const ports = tierPorts(nl, f2f, tier);
  const chipPorts = new Set(tier === "bottom" ? nl.ports.map((p) => p.name) : []);
  const mine = nl.instances.filter((i) => assign.get(i.name) === tier);
  const out: string[] = [];
  out.push(`// ${mod}: the ${tier} die of ${nl.module} (${mine.length} of ${nl.instances.length} instances, ${f2f.length} F2F nets).`);
  out.push(`// Power nets (physical views only): ${tier === "bottom" ? "VDD_BOT/VSS_BOT" : "VDD_TOP/VSS_TOP"}.`);
  out.push(`module ${mod}${portList(ports).join("\n")}`);
  const present = [...nets.values()]
    .filter((n) => on(n.driver!.inst) || n.sinks.some((s) => on(s.inst)) || (n.chipOut && tier === "bottom"))
    .filter((n) => !chipPorts.has(n.name))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (present.length) out.push("");
  for (const n of present) out.push(`  wire ${rng(n.width)}${n.name};`);
  if (f2f.length) out.push("");
  for (const f of f2f) out.push(f.from === tier ? `  assign ${f.port} = ${f.net};` : `  assign ${f.net} = ${f.port};`);
  for (const inst of mine) {
    out.push("");
    out.push(`  ${inst.module} ${inst.name} (`);
    out.push(inst.ports.map((p) => `    .${p.name}(${inst.conns[p.name]})`).join(",\n"));
    out.push("  );");
  }
  out.push("endmodule");
  return out.join("\n") + "\n";
}

/** Verilog text of the assembly `<name>_3d` (same chip ports as the 2D top). */
export function renderAssemblyModule(name: string, nl: Netlist, f2f: readonly F2fNet[]): string {
  const mod = assemblyModule(name);
  const chipNames = new Set(nl.ports.map((p) => p.name));
  for (const f of f2f) if (chipNames.has(f.port)) throw new Error(`F2F wire ${f.port} clashes with a chip port`);
  const out: string[] = [];
  out.push(`// ${mod}: ${nl.module} as two dies bonded face to face; ${f2f.reduce((a, f) => a + f.width, 0)} bonds in ${f2f.length} F2F nets.`);
  out.push(`module ${mod}${portList(nl.ports).join("\n")}`);
  if (f2f.length) out.push("");
  for (const f of f2f) out.push(`  wire ${rng(f.width)}${f.port};`);
  for (const tier of TIERS) {
    const ports = tierPorts(nl, f2f, tier);
    out.push("");
    out.push(`  ${tierModule(name, tier)} u_tier_${tier} (`);
    out.push(ports.map((p) => `    .${p.name}(${p.name})`).join(",\n"));
    out.push("  );");
  }
  out.push("endmodule");
  return out.join("\n") + "\n";
}

export interface TierRtl {
  f2f: F2fNet[];
  files: GeneratedFile[];
}

/** The three RTL files: `<name>_tier_bottom.v`, `<name>_tier_top.v`, `<name>_3d.v` (kind "rtl"). */
export function renderTierRtl(r: Pick<Resolved, "name" | "version" | "hash">, nl: Netlist, assign: ReadonlyMap<string, Tier>): TierRtl {
  const f2f = f2fNets(nl, assign);
  const files: GeneratedFile[] = TIERS.map((tier) => {
    const p = `${tierModule(r.name, tier)}.v`;
    return { path: p, kind: "rtl" as const, content: fileHeader(r, p, `${tier} die of the 3D view (structural)`, THIS_MODULE) + renderTierModule(r.name, nl, assign, tier, f2f) };
  });
  const ap = `${assemblyModule(r.name)}.v`;
  files.push({ path: ap, kind: "rtl", content: fileHeader(r, ap, "3D assembly: both dies wired through their F2F ports (structural)", THIS_MODULE) + renderAssemblyModule(r.name, nl, f2f) });
  return { f2f, files };
}
