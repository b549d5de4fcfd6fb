/**
 * `st3d run --check`: the RTL against the golden model, tensor by tensor in execution order.
 *
 * The host testbench (compiled with `define ST3D_PROBES) logs every write of the accelerator
 * into umem, the residual stream U, every U1 word the o layer writes into the merge memory, and
 * when the attention layers (q) and the MoE part (o) of each block start.  Replaying them over U0
 * gives U after every half: U1 of block b (after the attention half: LIF_a, q, k, v, attention,
 * o and the membrane shortcut; the merge-memory writes over U_b) and U2 of block b (after the MoE
 * half: LIF_m, router, top-k, experts, merge; umem once the pass that starts block b + 1, or the
 * final pass, has written it).  They are compared with the golden model's `blocks.{b}.u1` /
 * `blocks.{b}.u2`, then the output read back through the host port with the golden U_L, then the
 * performance counters with the golden counts.  The first tensor that
 * differs is reported with its first differing index (row-major [t, n, c]), its block and half,
 * both values, and how many of its values differ.
 */
import type { Resolved } from "../config/resolve.ts";
import type { GoldenResult } from "../model/golden.ts";
import type { Accelerator } from "../top/accelerator.ts";
import { tensorToUmem, umemToTensor } from "./host.ts";
import { packLanes, unpackLanes } from "../util/lanes.ts";

export interface TraceEvent {
  kind: "A" | "M";
  block: number;
  cycle: number;
}

export interface UmemTrace {
  events: TraceEvent[];
  /** U after each block, in order: blocks.0.u2, blocks.1.u2, ... (as far as the run got) */
  snapshots: { tensor: string; block: number; half: "attention" | "moe"; U: number[][][] }[];
  writes: number;
}

/** Replay the umem trace written by the testbench (+trace=FILE) over U0. */
export function replayUmemTrace(acc: Accelerator, U0: number[][][], text: string): UmemTrace {
  const words = new Map<number, bigint | null>(tensorToUmem(acc, U0));
  const df = acc.blocks.find((b) => b.entry.block.name === "dataflow")!.params as unknown as { mergeBits: number };
  const P = acc.r.geo.lanes;
  const events: TraceEvent[] = [];
  const snapshots: UmemTrace["snapshots"] = [];
  let current: TraceEvent | null = null;
  let u1: Map<number, bigint | null> | null = null;
  let writes = 0;
  // a block's U1 (the o layer's merge-memory writes over its U) and U2 (umem once the next block's
  // attention layers start, or at the end)
  const snap = () => {
    if (!current || current.kind !== "M") return;
    if (u1) snapshots.push({ tensor: `blocks.${current.block}.u1`, block: current.block, half: "attention", U: umemToTensor(acc, u1) });
    snapshots.push({ tensor: `blocks.${current.block}.u2`, block: current.block, half: "moe", U: umemToTensor(acc, words) });
  };
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f[0] === "A" || f[0] === "M") {
      snap();
      current = { kind: f[0], block: Number(f[1]), cycle: Number(f[2]) };
      events.push(current);
      if (f[0] === "A") u1 = new Map(words);
    } else if (f[0] === "W" && f.length === 4) {
      writes++;
      const addr = parseInt(f[2], 16);
      words.set(addr, /^[0-9a-fA-F]+$/.test(f[3]) ? BigInt(`0x${f[3]}`) : null);
    } else if (f[0] === "V" && f.length === 4 && u1) {
      const addr = parseInt(f[2], 16);
      // merge-width lanes of a saturated U1: re-packed at residBits (an unknown word stays unknown)
      u1.set(addr, /^[0-9a-fA-F]+$/.test(f[3]) ? packLanes(unpackLanes(BigInt(`0x${f[3]}`), df.mergeBits, P), acc.r.residBits) : null);
    }
  }
  snap();
  return { events, snapshots, writes };
}

export interface Mismatch {
  tensor: string;
  /** [t, n, c] */
  index: number[];
  block: number | null;
  /** which part of the model produced the tensor */
  layer: string;
  rtl: number | string;
  golden: number;
  /** values of this tensor that differ */
  count: number;
}

export interface CheckReport {
  against: "golden";
  /** folder of the weights the golden model ran on */
  goldenWeights: string;
  match: boolean;
  /** every tensor compared, in order */
  tensors: { tensor: string; values: number; mismatches: number }[];
  /** the first differing value, in execution order */
  first: Mismatch | null;
  /** values of the output U_L that differ */
  outputMismatches: number;
  counters: { name: string; rtl: number; golden: number; match: boolean }[];
}

const LAYER = {
  attention: "attention half (LIF_a, q, k, v, attention, o, membrane shortcut)",
  moe: "MoE half (LIF_m, router, top-k, experts, merge)",
};

function compare(a: number[][][], g: number[][][]): { mismatches: number; first: { index: number[]; rtl: number | string; golden: number } | null } {
  let mismatches = 0;
  let first: { index: number[]; rtl: number | string; golden: number } | null = null;
  for (let t = 0; t < g.length; t++)
    for (let n = 0; n < g[t].length; n++)
      for (let c = 0; c < g[t][n].length; c++) {
        const x = a[t]?.[n]?.[c];
        if (x !== g[t][n][c]) {
          mismatches++;
          first ??= { index: [t, n, c], rtl: x === undefined ? "missing" : Number.isNaN(x) ? "x" : x, golden: g[t][n][c] };
        }
      }
  return { mismatches, first };
}

export function checkRun(
  r: Resolved,
  golden: GoldenResult,
  rtl: { output: number[][][]; trace: UmemTrace; counters: Record<string, number> },
  goldenWeights: string,
): CheckReport {
  const tensors: CheckReport["tensors"] = [];
  let first: Mismatch | null = null;
  const values = r.T * r.N * r.D;
  const seen = new Set<string>();
  for (const s of rtl.trace.snapshots) {
    if (seen.has(s.tensor)) continue;
    seen.add(s.tensor);
    const g = golden.trace[s.tensor];
    if (!g) continue;
    const c = compare(s.U, g);
    tensors.push({ tensor: s.tensor, values, mismatches: c.mismatches });
    if (c.first && !first) first = { tensor: s.tensor, block: s.block, layer: `block ${s.block}, ${LAYER[s.half]}`, ...c.first, count: c.mismatches };
  }
  // a half the RTL never reached is a mismatch of all its values
  for (let b = 0; b < r.L; b++)
    for (const [h, half] of [
      ["u1", "attention"],
      ["u2", "moe"],
    ] as const) {
      const t = `blocks.${b}.${h}`;
      if (seen.has(t)) continue;
      tensors.push({ tensor: t, values, mismatches: values });
      if (!first) first = { tensor: t, block: b, layer: `block ${b}, ${LAYER[half]} (never reached by the RTL)`, index: [0, 0, 0], rtl: "missing", golden: golden.trace[t][0][0][0], count: values };
    }
  const out = compare(rtl.output, golden.out);
  tensors.push({ tensor: "output", values, mismatches: out.mismatches });
  if (out.first && !first) first = { tensor: "output", block: null, layer: "U_L read back through the host port", ...out.first, count: out.mismatches };
  const s = golden.stats;
  const sumStage = (k: "o" | "s1" | "h") => s.perLayer.reduce((a, b) => a + b.spikes[k], 0);
  const gCounters: Record<string, number> = { synapticOps: s.syn, spikes: s.spikes, spikesO: sumStage("o"), spikesS1: sumStage("s1"), spikesH: sumStage("h"), routed: s.routed };
  const counters = Object.entries(gCounters).map(([name, g]) => ({ name, rtl: rtl.counters[name], golden: g, match: rtl.counters[name] === g }));
  const match = !first && counters.every((c) => c.match);
  return { against: "golden", goldenWeights, match, tensors, first, outputMismatches: out.mismatches, counters };
}

/** One paragraph for the terminal. */
export function describeCheck(c: CheckReport): string {
  if (c.match) return `check: the RTL matches the golden model (${c.tensors.map((t) => t.tensor).join(", ")}; counters ${c.counters.map((x) => x.name).join(", ")})`;
  const lines: string[] = [];
  if (c.first) {
    const f = c.first;
    lines.push(
      `check: FAILED — first mismatch in ${f.tensor}[${f.index.join(",")}] (${f.layer}): RTL ${f.rtl}, golden ${f.golden}; ${f.count} of ${c.tensors.find((t) => t.tensor === f.tensor)?.values} values of ${f.tensor} differ, ${c.outputMismatches} of the output`,
    );
  } else lines.push("check: FAILED — every tensor matches, but counters differ");
  const bad = c.counters.filter((x) => !x.match);
  if (bad.length) lines.push(`  counters that differ: ${bad.map((x) => `${x.name} RTL ${x.rtl} golden ${x.golden}`).join("; ")}`);
  return lines.join("\n");
}
