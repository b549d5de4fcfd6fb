/**
 * Pin check between the views of a macro: the blackbox stub (synthesis) must have exactly
 * the pins of the behavioral model (simulation): same names, widths, bit ranges,
 * directions and signedness.  Ports are read by Yosys (`read_verilog -lib; write_json`), so the
 * check sees what the tools see, whatever the declaration style.
 */
import path from "node:path";
import { yosysReadInterfaces } from "../../toolchain/yosys.ts";

/** A pin as Yosys reads it from a Verilog file (what the tools see), for the model/stub pin check. */
export interface ToolPin {
  name: string;
  direction: "input" | "output" | "inout";
  width: number;
  /** index of the least significant bit (Yosys "offset") */
  lsb: number;
  /** declared [lsb:msb] instead of [msb:lsb] */
  upto: boolean;
  signed: boolean;
}

interface YosysJson {
  modules: Record<string, { attributes?: Record<string, string>; ports: Record<string, { direction: ToolPin["direction"]; bits: unknown[]; offset?: number; upto?: number; signed?: number }> }>;
}

/** Ports of every module defined in one Verilog file, in declaration order. */
export async function verilogPorts(file: string, workDir: string): Promise<Record<string, ToolPin[]>> {
  const j = (await yosysReadInterfaces(file, workDir)) as YosysJson;
  const out: Record<string, ToolPin[]> = {};
  for (const [mod, body] of Object.entries(j.modules)) {
    if (mod.startsWith("$abstract")) continue;
    out[mod] = Object.entries(body.ports).map(([name, p]) => ({
      name,
      direction: p.direction,
      width: p.bits.length,
      lsb: p.offset ?? 0,
      upto: !!p.upto,
      signed: !!p.signed,
    }));
  }
  return out;
}

export interface PinCheck {
  module: string;
  ok: boolean;
  /** one line per difference; empty when ok */
  problems: string[];
}

const fmt = (p: ToolPin) =>
  `${p.direction} ${p.signed ? "signed " : ""}${p.width === 1 && p.lsb === 0 ? "" : p.upto ? `[${p.lsb}:${p.lsb + p.width - 1}] ` : `[${p.lsb + p.width - 1}:${p.lsb}] `}${p.name}`;

/** Compare two port lists (reference = behavioral model, other = stub). */
export function comparePorts(module: string, model: ToolPin[] | undefined, stub: ToolPin[] | undefined): PinCheck {
  const problems: string[] = [];
  if (!model) problems.push(`behavioral model defines no module ${module}`);
  if (!stub) problems.push(`stub defines no module ${module}`);
  if (model && stub) {
    const s = new Map(stub.map((p) => [p.name, p]));
    const m = new Map(model.map((p) => [p.name, p]));
    for (const p of model) {
      const q = s.get(p.name);
      if (!q) problems.push(`pin ${fmt(p)} of the model is missing from the stub`);
      else if (fmt(p) !== fmt(q)) problems.push(`pin ${p.name}: model has '${fmt(p)}', stub has '${fmt(q)}'`);
    }
    for (const q of stub) if (!m.has(q.name)) problems.push(`stub pin ${fmt(q)} is not a pin of the model`);
  }
  return { module, ok: problems.length === 0, problems };
}

/** Check that the stub file of `module` has exactly the pins of its behavioral-model file. */
export async function checkStubPins(module: string, modelFile: string, stubFile: string, workDir: string): Promise<PinCheck> {
  const [model, stub] = await Promise.all([verilogPorts(modelFile, path.join(workDir, "model")), verilogPorts(stubFile, path.join(workDir, "stub"))]);
  const res = comparePorts(module, model[module], stub[module]);
  const extra = Object.keys(stub).filter((k) => k !== module);
  if (extra.length) res.problems.push(`stub file also defines ${extra.join(", ")}`);
  res.ok = res.problems.length === 0;
  return res;
}

/** Pin check of every macro used (each once): stub against behavioral model, files under outDir. */
export async function checkMacroViews(macros: { macro: string; modelPath: string; stubPath: string }[], outDir: string, workDir: string): Promise<PinCheck[]> {
  const seen = new Map<string, { macro: string; modelPath: string; stubPath: string }>();
  for (const m of macros) seen.set(m.macro, m);
  const out: PinCheck[] = [];
  for (const m of seen.values()) out.push(await checkStubPins(m.macro, path.join(outDir, m.modelPath), path.join(outDir, m.stubPath), path.join(workDir, m.macro)));
  return out;
}
