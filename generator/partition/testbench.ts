/**
 * Equivalence testbench (equiv_tb.v.hbs): the 2D top and 3D assemblies with the same chip
 * ports, the same random stimulus, every output compared every cycle.  `rst` (when the
 * design has one) is held high for the first `resetCycles` words of every stimulus.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { renderFile } from "../render/render.ts";
import type { PortDecl } from "../blocks/block.ts";
import { Prng } from "../util/prng.ts";
import type { GeneratedFile } from "../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface EquivTb {
  file: GeneratedFile;
  /** stimulus fields (chip inputs except clk), field 0 in the least significant bits */
  fields: { name: string; width: number; lsb: number }[];
  stimBits: number;
  cycles: number;
}

const rng = (w: number) => (w === 1 ? "" : `[${w - 1}:0] `);

export function renderEquivTb(tbModule: string, chipPorts: PortDecl[], ref: string, assemblies: string[], cycles: number): EquivTb {
  const fields: EquivTb["fields"] = [];
  let lsb = 0;
  for (const p of chipPorts)
    if (p.dir === "input" && p.name !== "clk") {
      fields.push({ name: p.name, width: p.width, lsb });
      lsb += p.width;
    }
  const stimBits = Math.max(1, lsb);
  const outs = chipPorts.filter((p) => p.dir === "output");
  const tops = [{ module: ref, tag: "ref" }, ...assemblies.map((m, i) => ({ module: m, tag: `d${i}` }))];
  const duts = tops.map((t) => ({
    module: t.module,
    inst: `u_${t.tag}`,
    outputs: outs.map((o) => ({ range: rng(o.width), wire: `${t.tag}_${o.name}` })),
    conns: chipPorts.map((p) => ({ port: p.name, net: p.dir === "input" ? p.name : `${t.tag}_${p.name}` })),
  }));
  const compares = tops.slice(1).flatMap((t) => outs.map((o) => ({ a: `${t.tag}_${o.name}`, b: `ref_${o.name}`, label: `${t.module}.${o.name}` })));
  const rst = fields.find((f) => f.name === "rst");
  const resetWord = `${stimBits}'h${(rst ? 1n << BigInt(rst.lsb) : 0n).toString(16)}`;
  const content = renderFile(path.join(here, "equiv_tb.v.hbs"), {
    tbModule,
    ref,
    stimMsb: stimBits - 1,
    last: cycles - 1,
    resetWord,
    inputs: fields.map((f) => ({ range: rng(f.width), name: f.name, msb: f.lsb + f.width - 1, lsb: f.lsb })),
    duts,
    compares,
    refOutputs: outs.map((o) => `ref_${o.name}`).join(", "),
  });
  return { file: { path: `${tbModule}.v`, kind: "tb", content }, fields, stimBits, cycles };
}

/**
 * Random stimulus words (hex, one per cycle) into dir/stim.hex; rst high for the first
 * resetCycles (then with probability 1%); other fields uniform unless `gen` has a generator.
 */
export function writeEquivStimulus(tb: EquivTb, dir: string, seed: number, resetCycles = 3, gen: Record<string, (rng: Prng) => bigint> = {}): void {
  const rngx = new Prng(seed);
  const words: string[] = [];
  for (let c = 0; c < tb.cycles; c++) {
    let w = 0n;
    for (const f of tb.fields) {
      let v = 0n;
      if (f.name === "rst") v = c < resetCycles ? 1n : BigInt(rngx.bit(0.01));
      else if (gen[f.name]) v = gen[f.name](rngx) & ((1n << BigInt(f.width)) - 1n);
      else for (let b = 0; b < f.width; b++) v |= BigInt(rngx.bit(0.5)) << BigInt(b);
      w |= v << BigInt(f.lsb);
    }
    words.push(w.toString(16).padStart(Math.ceil(tb.stimBits / 4), "0"));
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "stim.hex"), words.join("\n") + "\n");
}
