/**
 * The st3d logical-memory interface (1R1W, read latency 1, read-first) and its
 * behavioral model.  Every block that keeps state instantiates a memory with
 * these pins; the memory-macro flow (./macros.ts) maps it onto physical macros.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { idxBits } from "../../util/bits.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Die a memory is placed on (memory-on-logic puts memories on the top die by default). */
export type MemTier = "top" | "bottom";
/** What a memory holds (for reports and tier partitioning). */
export type MemKind = "weights" | "spikes" | "state" | "residual" | "scores" | "other";
/**
 * Port usage promised by the blocks that use the memory (the pins are the same either way):
 *  - "1r1w": a read and a write may happen in the same cycle (the general case);
 *  - "1rw":  re and we are never 1 in the same cycle, and rdata is only looked at the cycle
 *            after re (e.g. weights: written at load time, read during inference).  Such a
 *            memory maps onto the single-port fakeram45 macros (docs/MEMORY.md).
 */
export type MemPorts = "1r1w" | "1rw";

export interface LogicalMemory {
  /** Verilog module name (unique per design) */
  module: string;
  /** what it holds, e.g. "LIF_q state" */
  label: string;
  depth: number;
  width: number;
  addrBits: number;
  /** default "1r1w" */
  ports: MemPorts;
  /** always 1: rdata is valid the cycle after re */
  readLatency: 1;
  /** default "top" */
  tier: MemTier;
  /** default "other" */
  kind: MemKind;
  /**
   * optional $readmemh image (one hex word of `width` bits per line, `depth` lines) loaded
   * at time 0 in simulation only (never in synthesis: ASIC SRAM has no initial content);
   * a path as the simulator will see it (relative paths are relative to its working directory)
   */
  preload?: string;
}

export type LogicalMemoryOptions = Partial<Pick<LogicalMemory, "ports" | "tier" | "kind" | "preload">>;

export function logicalMemory(module: string, label: string, depth: number, width: number, opts: LogicalMemoryOptions = {}): LogicalMemory {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) throw new Error(`logical memory: '${module}' is not a Verilog identifier`);
  if (!(Number.isInteger(depth) && depth >= 1 && Number.isInteger(width) && width >= 1))
    throw new Error(`logical memory ${module}: depth and width must be positive integers, got ${depth} x ${width}`);
  return {
    module,
    label,
    depth,
    width,
    addrBits: idxBits(depth),
    ports: opts.ports ?? "1r1w",
    readLatency: 1,
    tier: opts.tier ?? "top",
    kind: opts.kind ?? "other",
    ...(opts.preload !== undefined ? { preload: opts.preload } : {}),
  };
}

/**
 * The behavioral model of a logical memory (module `m.module`).  Also the flip-flop
 * implementation the memory flow uses below `macroMinBits` (then `kind` is "rtl").
 */
export function renderRam1r1w(r: Resolved, m: LogicalMemory, kind: GeneratedFile["kind"] = "rtl"): GeneratedFile {
  return renderVerilog(
    r,
    path.join(here, "ram1r1w.v.hbs"),
    `${m.module}.v`,
    `logical memory ${m.label}`,
    {
      module: m.module,
      label: m.label,
      depth: m.depth,
      width: m.width,
      addrMsb: m.addrBits - 1,
      widthMsb: m.width - 1,
      depthMsb: m.depth - 1,
      preload: m.preload ?? "",
    },
    kind,
  );
}

/**
 * The residual-stream memory umem (SPEC §1.3's U): geo.rows * geo.tilesD words of P lanes of
 * residBits, word row * tilesD + j.  The top owns it and ctrl multiplexes it between the host
 * and the halves, which reach it through their u_* client ports.
 */
export function residualMemory(r: Resolved): LogicalMemory {
  return logicalMemory(`${r.name}_mem_umem`, "residual stream U", r.geo.umemDepth, r.geo.umemWidth, { kind: "residual" });
}
