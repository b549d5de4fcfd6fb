/**
 * The host program of an inference: every write that loads the weights, biases and the
 * input U0 through the accelerator's host port, the start, and the reads of U_L and of the
 * performance counters.  Also the decoding of what the reads returned.
 */
import type { Resolved } from "../config/resolve.ts";
import { REG } from "../blocks/ctrl/ctrl.ts";
import type { Model } from "../model/golden.ts";
import { memoryImages, type Accelerator, ATTN_PHASES, MOE_PHASES } from "../top/accelerator.ts";
import { packLanes, unpackLanes } from "../util/lanes.ts";

export interface ReadSlot {
  what: "umem" | "reg";
  /** umem: word address; reg: register index */
  index: number;
  field: number;
}

export interface HostProgram {
  lines: string[];
  reads: ReadSlot[];
  writes: number;
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
const addrOf = (region: number, idx: number) => ((region << 24) | idx) >>> 0;

function toField(word: bigint, f: number): number {
  return Number((word >> BigInt(32 * f)) & 0xffffffffn);
}

/** umem word of row (t, n), tile j from U[t][n][:] (lanes beyond D are 0). */
export function umemWord(acc: Accelerator, U: number[][][], t: number, n: number, j: number): bigint {
  const P = acc.r.geo.lanes;
  return packLanes(
    [...Array(P).keys()].map((l) => (j * P + l < acc.r.D ? U[t][n][j * P + l] : 0)),
    acc.r.residBits,
  );
}

export function umemAddr(acc: Accelerator, t: number, n: number, j: number): number {
  return ((t << acc.r.geo.nBits) | n) * acc.r.geo.tilesD + j;
}

export function hostProgram(acc: Accelerator, model: Model, U0: number[][][]): HostProgram {
  const lines: string[] = [];
  const reads: ReadSlot[] = [];
  let writes = 0;
  const images = memoryImages(acc, model);
  for (const h of acc.ctrl.hostMems) {
    const img = images.get(h.mem.module);
    if (!img) throw new Error(`internal error: no image for host memory ${h.mem.module}`);
    for (let w = 0; w < img.length; w++) {
      for (let f = 0; f < h.fields; f++) {
        lines.push(`1 ${hex8(addrOf(h.region, (w << h.fieldBits) | f))} ${hex8(toField(img[w], f))}`);
        writes++;
      }
    }
  }
  const u = acc.ctrl.umem;
  const { r } = acc;
  for (let t = 0; t < r.T; t++)
    for (let n = 0; n < r.N; n++)
      for (let j = 0; j < acc.r.geo.tilesD; j++) {
        const word = umemWord(acc, U0, t, n, j);
        const a = umemAddr(acc, t, n, j);
        for (let f = 0; f < u.fields; f++) {
          lines.push(`1 ${hex8(addrOf(1, (a << u.fieldBits) | f))} ${hex8(toField(word, f))}`);
          writes++;
        }
      }
  lines.push("3 00000000 00000000");
  for (let t = 0; t < r.T; t++)
    for (let n = 0; n < r.N; n++)
      for (let j = 0; j < acc.r.geo.tilesD; j++) {
        const a = umemAddr(acc, t, n, j);
        for (let f = 0; f < u.fields; f++) {
          lines.push(`2 ${hex8(addrOf(1, (a << u.fieldBits) | f))} 00000000`);
          reads.push({ what: "umem", index: a, field: f });
        }
      }
  const regs = [REG.ID, ...[REG.CYCLES, REG.SYN, REG.SPIKES, REG.SPIKES_O, REG.SPIKES_S1, REG.SPIKES_H, REG.ROUTED, REG.SYN_ATTN, REG.SYN_MOE].flatMap((x) => [x, x + 1])];
  for (let i = 0; i < r.L * acc.ctrl.phases; i++) regs.push(REG.PHASE_BASE + i);
  for (const x of regs) {
    lines.push(`2 ${hex8(addrOf(0, x))} 00000000`);
    reads.push({ what: "reg", index: x, field: 0 });
  }
  lines.push("0 00000000 00000000");
  return { lines, reads, writes };
}

export interface DecodedRun {
  out: number[][][];
  id: number;
  cycles: number;
  syn: number;
  spikes: number;
  spikesO: number;
  spikesS1: number;
  spikesH: number;
  routed: number;
  synAttn: number;
  synMoe: number;
  perLayer: { block: number; half: "attention" | "moe"; phase: string; cycles: number }[];
}

export function decodeReads(acc: Accelerator, prog: HostProgram, values: number[]): DecodedRun {
  if (values.length !== prog.reads.length) throw new Error(`the simulation returned ${values.length} reads, expected ${prog.reads.length}`);
  const { r } = acc;
  const words = new Map<number, bigint>();
  const regs = new Map<number, number>();
  prog.reads.forEach((s, i) => {
    if (s.what === "umem") words.set(s.index, (words.get(s.index) ?? 0n) | (BigInt(values[i] >>> 0) << BigInt(32 * s.field)));
    else regs.set(s.index, values[i] >>> 0);
  });
  const b = r.residBits;
  const out: number[][][] = [];
  for (let t = 0; t < r.T; t++) {
    const rowT: number[][] = [];
    for (let n = 0; n < r.N; n++) {
      const row: number[] = new Array(r.D);
      for (let j = 0; j < acc.r.geo.tilesD; j++) {
        const P = acc.r.geo.lanes;
        unpackLanes(words.get(umemAddr(acc, t, n, j))!, b, Math.min(P, r.D - j * P)).forEach((v, l) => (row[j * P + l] = v));
      }
      rowT.push(row);
    }
    out.push(rowT);
  }
  const r64 = (x: number) => (regs.get(x) ?? 0) + (regs.get(x + 1) ?? 0) * 2 ** 32;
  const perLayer: DecodedRun["perLayer"] = [];
  const phases = [...ATTN_PHASES.map((p) => ["attention", p] as const), ...MOE_PHASES.map((p) => ["moe", p] as const)];
  for (let blk = 0; blk < r.L; blk++)
    phases.forEach(([half, phase], i) => perLayer.push({ block: blk, half, phase, cycles: regs.get(REG.PHASE_BASE + blk * acc.ctrl.phases + i) ?? 0 }));
  return {
    out,
    id: regs.get(REG.ID) ?? 0,
    cycles: r64(REG.CYCLES),
    syn: r64(REG.SYN),
    spikes: r64(REG.SPIKES),
    spikesO: r64(REG.SPIKES_O),
    spikesS1: r64(REG.SPIKES_S1),
    spikesH: r64(REG.SPIKES_H),
    routed: r64(REG.ROUTED),
    synAttn: r64(REG.SYN_ATTN),
    synMoe: r64(REG.SYN_MOE),
    perLayer,
  };
}

export type { Resolved };
