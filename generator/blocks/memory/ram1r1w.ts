/**
 * The st3d logical-memory interface (1R1W, read latency 1, read-first) and its
 * behavioral model.  Every block that keeps state instantiates a memory with
 * these pins; the memory-macro flow maps it onto physical macros.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog, type GeneratedFile } from "../../render/render.ts";
import { idxBits } from "../../util/bits.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface LogicalMemory {
  /** Verilog module name (unique per design) */
  module: string;
  /** what it holds, e.g. "LIF_q state" */
  label: string;
  depth: number;
  width: number;
  addrBits: number;
}

export function logicalMemory(module: string, label: string, depth: number, width: number): LogicalMemory {
  return { module, label, depth, width, addrBits: idxBits(depth) };
}

export function renderRam1r1w(r: Resolved, m: LogicalMemory): GeneratedFile {
  return renderVerilog(r, path.join(here, "ram1r1w.v.hbs"), `${m.module}.v`, `logical memory ${m.label}`, {
    module: m.module,
    label: m.label,
    depth: m.depth,
    width: m.width,
    addrMsb: m.addrBits - 1,
    widthMsb: m.width - 1,
    depthMsb: m.depth - 1,
  });
}
