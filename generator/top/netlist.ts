/**
 * The top level as data: instances, their ports and the nets between them.  The 2D
 * top, the per-tier tops and the 3D assembly are all rendered from one Netlist, so
 * they cannot disagree.  Every net has exactly one driver (an instance output or a chip
 * input); a net whose driver and sinks sit on different tiers is a face-to-face net.
 */
import type { LogicalMemory } from "../blocks/memory/ram1r1w.ts";
import type { PortDecl } from "../blocks/block.ts";

export type Tier = "top" | "bottom";

export interface InstanceDecl {
  /** instance name, e.g. u_dataflow, u_mem_d_sbuf */
  name: string;
  module: string;
  kind: "logic" | "memory";
  /** coarse class for partitioning and reports: ctrl, dataflow, pool, memory kind ... */
  group: string;
  ports: PortDecl[];
  /** port name -> net name, or a constant literal such as 1'b0 (for inputs only) */
  conns: Record<string, string>;
  memory?: LogicalMemory;
}

export interface Netlist {
  module: string;
  /** chip I/O: each is also a net of the same name */
  ports: PortDecl[];
  instances: InstanceDecl[];
}

export interface NetInfo {
  name: string;
  width: number;
  /** "<chip>" for a chip input */
  driver: { inst: string; port: string } | null;
  sinks: { inst: string; port: string }[];
  /** a chip output reads this net */
  chipOut: boolean;
}

export const CHIP = "<chip>";
export const isConst = (s: string) => /^(\d+'[bdh][0-9a-fA-F_xz]+|\{.*\})$/.test(s);

/** Nets with their driver and sinks; throws on width mismatches, multiple or missing drivers. */
export function netInfo(nl: Netlist): Map<string, NetInfo> {
  const nets = new Map<string, NetInfo>();
  const get = (name: string, width: number, where: string): NetInfo => {
    let n = nets.get(name);
    if (!n) {
      n = { name, width, driver: null, sinks: [], chipOut: false };
      nets.set(name, n);
    } else if (n.width !== width) throw new Error(`netlist ${nl.module}: net ${name} is ${n.width} bits but ${where} is ${width}`);
    return n;
  };
  for (const p of nl.ports) {
    const n = get(p.name, p.width, `chip port ${p.name}`);
    if (p.dir === "input") n.driver = { inst: CHIP, port: p.name };
    else n.chipOut = true;
  }
  for (const inst of nl.instances) {
    const declared = new Set(inst.ports.map((p) => p.name));
    for (const k of Object.keys(inst.conns)) if (!declared.has(k)) throw new Error(`netlist ${nl.module}: ${inst.name} has no port ${k}`);
    for (const p of inst.ports) {
      const c = inst.conns[p.name];
      if (c === undefined) throw new Error(`netlist ${nl.module}: ${inst.name}.${p.name} is not connected`);
      if (isConst(c)) {
        if (p.dir === "output") throw new Error(`netlist ${nl.module}: output ${inst.name}.${p.name} tied to a constant`);
        continue;
      }
      const n = get(c, p.width, `${inst.name}.${p.name}`);
      if (p.dir === "output") {
        if (n.driver) throw new Error(`netlist ${nl.module}: net ${c} driven by ${n.driver.inst}.${n.driver.port} and ${inst.name}.${p.name}`);
        n.driver = { inst: inst.name, port: p.name };
      } else n.sinks.push({ inst: inst.name, port: p.name });
    }
  }
  for (const n of nets.values()) {
    if (!n.driver) throw new Error(`netlist ${nl.module}: net ${n.name} has no driver`);
  }
  return nets;
}

/** Render a purely structural Verilog module from a netlist (wires + instances). */
export function renderStructural(nl: Netlist, headerComment: string[]): string {
  const nets = netInfo(nl);
  const chip = new Set(nl.ports.map((p) => p.name));
  const rng = (w: number) => (w === 1 ? "" : `[${w - 1}:0] `);
  const out: string[] = [];
  for (const c of headerComment) out.push(`// ${c}`.trimEnd());
  out.push(`module ${nl.module} (`);
  out.push(nl.ports.map((p) => `  ${p.dir.padEnd(6)} wire ${rng(p.width)}${p.name}`).join(",\n"));
  out.push(");");
  const internal = [...nets.values()].filter((n) => !chip.has(n.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  if (internal.length) out.push("");
  for (const n of internal) out.push(`  wire ${rng(n.width)}${n.name};`);
  for (const inst of nl.instances) {
    out.push("");
    out.push(`  ${inst.module} ${inst.name} (`);
    out.push(inst.ports.map((p) => `    .${p.name}(${inst.conns[p.name]})`).join(",\n"));
    out.push("  );");
  }
  out.push("endmodule");
  return out.join("\n") + "\n";
}
