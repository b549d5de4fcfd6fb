/**
 * The host program of an inference: every write that loads the weights, biases and the
 * input U0 through the accelerator's host port, the start, and the reads of U_L and of the
 * performance counters.  Also the decoding of what the reads returned.
 */
import type { Resolved } from "../config/resolve.ts";
import { REG } from "../blocks/ctrl/ctrl.ts";
import type { Model } from "../model/golden.ts";
import { memoryImages, type Accelerator, PHASES } from "../top/accelerator.ts";
import { PERF_CLASSES, type PerfClass } from "../blocks/linearEngine/linearEngine.ts";
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
  const steps = hostProgramSteps(acc, model, U0);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
  }
}

/**
 * The host program, built in steps (big models have millions of writes): `await` between
 * steps to keep the event loop (progress heartbeats) alive; `onStep(done, total)` counts words.
 */
export async function hostProgramAsync(acc: Accelerator, model: Model, U0: number[][][], onStep?: (done: number, total: number) => void): Promise<HostProgram> {
  const steps = hostProgramSteps(acc, model, U0);
  for (;;) {
    const s = steps.next();
    if (s.done) return s.value;
    onStep?.(s.value.done, s.value.total);
    await new Promise((r) => setImmediate(r));
  }
}

function* hostProgramSteps(acc: Accelerator, model: Model, U0: number[][][]): Generator<{ done: number; total: number }, HostProgram> {
  const lines: string[] = [];
  const reads: ReadSlot[] = [];
  let writes = 0;
  const images = memoryImages(acc, model);
  const total = acc.ctrl.hostMems.reduce((a, h) => a + (images.get(h.mem.module)?.length ?? 0) * h.fields, 0);
  yield { done: 0, total };
  for (const h of acc.ctrl.hostMems) {
    const img = images.get(h.mem.module);
    if (!img) throw new Error(`internal error: no image for host memory ${h.mem.module}`);
    for (let w = 0; w < img.length; w++) {
      for (let f = 0; f < h.fields; f++) {
        lines.push(`1 ${hex8(addrOf(h.region, (w << h.fieldBits) | f))} ${hex8(toField(img[w], f))}`);
        writes++;
      }
      if (w % 4096 === 4095) yield { done: writes, total };
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
  const regs = [REG.ID, ...[REG.CYCLES, REG.SYN, REG.SPIKES, REG.SPIKES_O, REG.SPIKES_S1, REG.SPIKES_H, REG.ROUTED, REG.SYN_ATTN, REG.SYN_MOE, REG.SYN_ROUTER].flatMap((x) => [x, x + 1])];
  if (acc.ctrl.stream) regs.push(...[REG.WBEATS, REG.WBURSTS, REG.WWAIT].flatMap((x) => [x, x + 1]));
  for (let i = 0; i < 32; i++) regs.push(REG.CLASS_BASE + i);
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
  synRouter: number;
  /** busy cycles of the dataflow unit per block and phase */
  perLayer: { block: number; phase: string; cycles: number }[];
  /** cycles of each perf class of the synaptic pool and of the router engine (while the dataflow unit is busy) */
  classes: { pool: Record<PerfClass, number>; router: Record<PerfClass, number> };
  /** weights off chip: ctrl's WBEATS, WBURSTS, WWAIT (null: weights on chip) */
  stream: { beats: number; bursts: number; waitCycles: number } | null;
}

/**
 * U[t][n][c] from umem words (word address -> value; null = unknown, e.g. an X written by the
 * RTL: its channels decode to NaN).
 */
export function umemToTensor(acc: Accelerator, words: Map<number, bigint | null>): number[][][] {
  const { r } = acc;
  const b = r.residBits;
  const out: number[][][] = [];
  for (let t = 0; t < r.T; t++) {
    const rowT: number[][] = [];
    for (let n = 0; n < r.N; n++) {
      const row: number[] = new Array(r.D);
      for (let j = 0; j < acc.r.geo.tilesD; j++) {
        const P = acc.r.geo.lanes;
        const w = words.get(umemAddr(acc, t, n, j));
        const count = Math.min(P, r.D - j * P);
        // an unknown word (X written by the RTL) decodes to NaN in every channel
        (w === null || w === undefined ? new Array<number>(count).fill(NaN) : unpackLanes(w, b, count)).forEach((v, l) => (row[j * P + l] = v));
      }
      rowT.push(row);
    }
    out.push(rowT);
  }
  return out;
}

/** umem words holding U ([T][N][D]), as the host loads them. */
export function tensorToUmem(acc: Accelerator, U: number[][][]): Map<number, bigint> {
  const words = new Map<number, bigint>();
  for (let t = 0; t < acc.r.T; t++) for (let n = 0; n < acc.r.N; n++) for (let j = 0; j < acc.r.geo.tilesD; j++) words.set(umemAddr(acc, t, n, j), umemWord(acc, U, t, n, j));
  return words;
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
  const out = umemToTensor(acc, words);
  const r64 = (x: number) => (regs.get(x) ?? 0) + (regs.get(x + 1) ?? 0) * 2 ** 32;
  const perLayer: DecodedRun["perLayer"] = [];
  for (let blk = 0; blk < r.L; blk++) PHASES.forEach((phase, i) => perLayer.push({ block: blk, phase, cycles: regs.get(REG.PHASE_BASE + blk * acc.ctrl.phases + i) ?? 0 }));
  const cls = (engine: number) => Object.fromEntries(PERF_CLASSES.map((c, i) => [c, r64(REG.CLASS_BASE + 2 * (8 * engine + i))])) as Record<PerfClass, number>;
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
    synRouter: r64(REG.SYN_ROUTER),
    perLayer,
    classes: { pool: cls(0), router: cls(1) },
    stream: acc.ctrl.stream ? { beats: r64(REG.WBEATS), bursts: r64(REG.WBURSTS), waitCycles: r64(REG.WWAIT) } : null,
  };
}

export type { Resolved };
