/**
 * lifArray — P parallel LIF lanes time-multiplexed over many neurons, state in
 * a logical memory.  Parameters, derivation and rendering of the block.
 * Golden model: ./golden.ts.  Testbench: ./lifArray_tb.v.hbs.  Tests: ./lifArray.test.ts.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LifFamily, Resolved, ResolvedLif } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { idxBits, maxS, minS } from "../../util/bits.ts";
import { logicalMemory, renderRam1r1w, type LogicalMemory } from "../memory/ram1r1w.ts";
import type { Block } from "../block.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface LifArrayParams {
  module: string;
  family: string;
  lanes: number;
  neurons: number;
  /** state words: ceil(neurons / lanes) */
  depth: number;
  addrBits: number;
  xBits: number;
  stateBits: number;
  /**
   * stored state width: stateBits, plus one bit when reset = "subtract" with a negative
   * threshold (then W' = G - threshold can exceed the stateBits range; SPEC saturates G only)
   */
  wBits: number;
  /** width of the internal G arithmetic (holds X - W, W*(2^tau-1) without overflow) */
  gBits: number;
  threshold: number;
  tauShift: number;
  decayInput: boolean;
  fire: ">=" | ">";
  reset: "zero" | "subtract";
  resetSubtract: boolean;
  stateMax: number;
  stateMin: number;
  /** per-word valid flops + clear input (for neurons not updated at every timestep) */
  trackValid: boolean;
  /**
   * Values of the Verilog parameters THRESHOLD and TAU_SHIFT that may be set after generation
   * (docs/IP.md): every other number of the array (widths, depth) is baked in, and these ranges
   * are what those baked widths can carry exactly.
   */
  overrides: LifOverrides;
  mem: LogicalMemory;
}

export interface LifOverrides {
  thresholdMin: number;
  thresholdMax: number;
  tauShiftMax: number;
}

/**
 * Safe post-generation values of the THRESHOLD / TAU_SHIFT parameters of a LIF array:
 *  - THRESHOLD within the stateBits range; with reset = "subtract" and a non-negative generated
 *    threshold the stored state has no extra bit, so W' = G - THRESHOLD only fits for
 *    THRESHOLD >= 0 (a negative generated threshold adds the bit, then any value fits);
 *  - TAU_SHIFT from 0 up to the generated value: the G arithmetic is gBits = max(xBits, wBits) +
 *    tauShift + 2 wide, enough for every smaller shift, not for a larger one.
 */
export function lifOverrides(lif: Pick<ResolvedLif, "threshold" | "reset" | "stateBits" | "tauShift">, wBits: number): LifOverrides {
  const extraBit = wBits > lif.stateBits;
  return {
    thresholdMin: lif.reset === "subtract" && !extraBit ? 0 : minS(lif.stateBits),
    thresholdMax: maxS(lif.stateBits),
    tauShiftMax: lif.tauShift,
  };
}

/**
 * Derive the parameters of one LIF array.
 * @param tag     module-name suffix, unique within the design (e.g. "qkv", "b0_attn")
 * @param neurons neurons served (e.g. tokens x channels)
 */
export function lifArrayParams(r: Resolved, lif: ResolvedLif, tag: string, neurons: number, lanes = r.hw.lifLanes, trackValid = false): LifArrayParams {
  const depth = Math.ceil(neurons / lanes);
  const resetSubtract = lif.reset === "subtract";
  const wBits = resetSubtract && lif.threshold < 0 ? lif.stateBits + 1 : lif.stateBits;
  const gBits = Math.max(lif.xBits, wBits) + lif.tauShift + 2;
  const module = `${r.name}_lifArray_${tag}`;
  return {
    module,
    family: lif.family,
    lanes,
    neurons,
    depth,
    addrBits: idxBits(depth),
    xBits: lif.xBits,
    stateBits: lif.stateBits,
    wBits,
    gBits,
    threshold: lif.threshold,
    tauShift: lif.tauShift,
    decayInput: lif.decayInput,
    fire: lif.fire,
    reset: lif.reset,
    resetSubtract,
    stateMax: maxS(lif.stateBits),
    stateMin: minS(lif.stateBits),
    trackValid,
    overrides: lifOverrides(lif, wBits),
    mem: logicalMemory(`${module}_state`, `LIF ${tag} membrane state`, depth, lanes * wBits),
  };
}

export function lifArrayContext(p: LifArrayParams) {
  const { mem, addrBits, reset, ...fields } = p;
  void reset; // printed as resetSubtract
  return {
    ...fields,
    memModule: mem.module,
    addrMsb: addrBits - 1,
    depthMsb: p.depth - 1,
    lanesMsb: p.lanes - 1,
    xMsb: p.xBits - 1,
    wMsb: p.wBits - 1,
    gMsb: p.gBits - 1,
    sMsb: p.stateBits - 1,
    xBusMsb: p.lanes * p.xBits - 1,
    wBusMsb: p.lanes * p.wBits - 1,
    wBusBits: p.lanes * p.wBits,
  };
}

/** The array module (its state memory is external: p.mem, rendered by the memory flow). */
export function renderLifArray(r: Resolved, p: LifArrayParams): GeneratedFile[] {
  return [renderVerilog(r, path.join(here, "lifArray.v.hbs"), `${p.module}.v`, `LIF neuron array (${p.family})`, lifArrayContext(p))];
}

/** Options of lifArrayParams beyond the resolved config. */
export interface LifArrayOptions {
  lif: ResolvedLif;
  tag: string;
  neurons: number;
  lanes?: number;
  trackValid?: boolean;
}

/** The block (generator/blocks/block.ts): state memory on the st_* pins. */
export const lifArrayBlock: Block<LifArrayParams, LifArrayOptions> = {
  name: "lifArray",
  golden: "generator/blocks/lifArray/golden.ts",
  testedBy: ["generator/blocks/lifArray/lifArray.test.ts"],
  params: (r, o) => lifArrayParams(r, o.lif, o.tag, o.neurons, o.lanes, o.trackValid),
  render: renderLifArray,
  memories: (p) => [{ mem: p.mem, prefix: "st", access: "rw", hostWritable: false, role: `LIF ${p.family} membrane state` }],
};

/** Behavioral model of the state memory, for standalone tests of the array. */
export function renderLifArrayMemModel(r: Resolved, p: LifArrayParams): GeneratedFile {
  return renderRam1r1w(r, p.mem);
}

export type { LifFamily };
