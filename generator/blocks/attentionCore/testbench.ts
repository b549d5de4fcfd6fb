/**
 * Testbench generation for the attention unit: one top testbench holding one sub-testbench per
 * shape (each its own resolved config and unit), and per seed the Q/K/V rows of every run and
 * the golden model's O rows (ssa with LIF_attn state carried per LIF set, or sdsa).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderFile } from "../../render/render.ts";
import { asr } from "../../util/bits.ts";
import { Prng } from "../../util/prng.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { renderRam1r1w, logicalMemory } from "../memory/ram1r1w.ts";
import { attentionParams, renderAttention, renderAttentionMemModels, type AttentionOptions, type AttentionParams } from "./attentionCore.ts";
import { sdsa, ssa } from "./golden.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface AttnRun {
  t: number;
  set: number;
}

export interface AttnTbShape {
  r: Resolved;
  p: AttentionParams;
  /** file prefix in the data folder */
  prefix: string;
  /** runs in order: every LIF set goes through t = 0..T-1, sets interleaved */
  runs: AttnRun[];
}

export function attnTbShape(r: Resolved, opts: AttentionOptions = {}): AttnTbShape {
  const p = attentionParams(r, opts);
  const runs: AttnRun[] = [];
  for (let t = 0; t < p.T; t++) for (let s = 0; s < p.lifSets; s++) runs.push({ t, set: s });
  // interleave sets unevenly (set 1 lags one timestep behind set 0, ...)
  if (p.lifSets > 1) runs.sort((a, b) => a.t + a.set - (b.t + b.set) || a.set - b.set);
  return { r, p, prefix: r.name, runs };
}

export function renderAttentionTb(tbModule: string, shapes: AttnTbShape[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  let worstNs = 0;
  const ctxShapes = shapes.map((sh) => {
    const { r, p } = sh;
    const act = logicalMemory(`${r.name}_tb_act`, "testbench activation rows (Q, K, V, O)", p.geo.rows, p.D);
    files.push(...renderAttention(r, p), ...renderAttentionMemModels(r, p), { ...renderRam1r1w(r, act), kind: "sim" as const });
    const tbsModule = `${r.name}_attention_tbs`;
    const runCycles = p.cycles + 3 * p.N + 8;
    worstNs = Math.max(worstNs, 10 * (sh.runs.length * runCycles + 20));
    const ctx = {
      mode: p.mode,
      ssa: p.mode === "ssa",
      tbsModule,
      unitModule: p.unitModule,
      actModule: act.module,
      prefix: sh.prefix,
      N: p.N,
      nLast: p.N - 1,
      rowStride: 1 << p.geo.nBits,
      D: p.D,
      DMsb: p.D - 1,
      ioRows: p.geo.rows,
      runs: sh.runs.length,
      runsLast: sh.runs.length - 1,
      rowsLast: sh.runs.length * p.N - 1,
      rowMsb: p.geo.rowAddrBits - 1,
      tMsb: p.geo.tBits - 1,
      setMsb: p.setBits - 1,
      multiSet: p.lifSets > 1,
      cycleLimit: 4 * p.cycles + 100,
      memPorts: p.memories.map((m) => ({ prefix: m.prefix, mem: { module: m.mem.module }, addrMsb: m.mem.addrBits - 1, widthMsb: m.mem.width - 1 })),
    };
    files.push({ path: `${tbsModule}.v`, kind: "tb", content: renderFile(path.join(here, "attentionCore_tb.v.hbs"), ctx) });
    return { tbsModule };
  });
  files.push({
    path: `${tbModule}.v`,
    kind: "tb",
    content: renderFile(path.join(here, "attentionCore_tb_top.v.hbs"), { tbModule, shapes: ctxShapes, timeoutNs: 3 * worstNs + 10000 }),
  });
  return files;
}

export type SpikeStyle = "random" | "dense" | "sparse" | "zeros" | "ones" | "mixed";

function genMatrix(rng: Prng, N: number, D: number, style: Exclude<SpikeStyle, "mixed">): number[][] {
  const dens = style === "random" ? 0.3 + 0.65 * rng.next() : style === "dense" ? 0.85 : style === "sparse" ? 0.3 : style === "ones" ? 1 : 0;
  return Array.from({ length: N }, () => Array.from({ length: D }, () => (style === "ones" ? 1 : style === "zeros" ? 0 : rng.bit(dens))));
}

function rowHex(row: number[]): string {
  let v = 0n;
  for (let c = row.length - 1; c >= 0; c--) v = (v << 1n) | BigInt(row[c]);
  return v.toString(16).padStart(Math.ceil(row.length / 4), "0");
}

export interface AttnStimStats {
  /** O bits equal to 1, over all shapes and runs */
  spikes: number;
  /** O bits in total */
  bits: number;
  /** ssa: X values clamped by sat_accBits */
  saturated: number;
}

/**
 * Write, for one seed, every shape's Q/K/V rows per run, the schedule and the expected O rows
 * (golden ssa/sdsa; LIF_attn state per set, reset at t = 0).
 */
export function writeAttentionStimulus(dir: string, shapes: AttnTbShape[], seed: number, style: SpikeStyle): AttnStimStats {
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Prng(seed);
  const st: AttnStimStats = { spikes: 0, bits: 0, saturated: 0 };
  for (const sh of shapes) {
    const { r, p } = sh;
    const { N, D, H, d } = p;
    const states = Array.from({ length: p.lifSets }, () => Array.from({ length: N }, () => new Array<number>(D).fill(0)));
    const q: string[] = [];
    const k: string[] = [];
    const v: string[] = [];
    const e: string[] = [];
    const sched: string[] = [];
    for (const run of sh.runs) {
      const pick = (): Exclude<SpikeStyle, "mixed"> => (style === "mixed" ? rng.pick(["zeros", "ones", "random", "dense", "sparse"] as const) : style);
      const Q = genMatrix(rng, N, D, pick());
      const K = genMatrix(rng, N, D, pick());
      const V = genMatrix(rng, N, D, pick());
      let O: number[][];
      if (p.mode === "ssa") {
        if (run.t === 0) for (const row of states[run.set]) row.fill(0);
        O = ssa(Q, K, V, H, r.attnShift, r.accBits, r.lif.attn, states[run.set]);
        // count saturations (independent re-computation of Y)
        for (let h = 0; h < H; h++)
          for (let i = 0; i < N; i++)
            for (let c = 0; c < d; c++) {
              let y = 0;
              for (let j = 0; j < N; j++) {
                if (!V[j][h * d + c]) continue;
                for (let b = 0; b < d; b++) y += Q[i][h * d + b] & K[j][h * d + b];
              }
              if (asr(y, r.attnShift) > p.satMax) st.saturated++;
            }
      } else O = sdsa(Q, K, V, H);
      for (let n = 0; n < N; n++) {
        q.push(rowHex(Q[n]));
        k.push(rowHex(K[n]));
        v.push(rowHex(V[n]));
        e.push(rowHex(O[n]));
        for (const b of O[n]) st.spikes += b;
        st.bits += D;
      }
      sched.push(((run.set << 16) | run.t).toString(16));
    }
    writeHexFile(path.join(dir, `${sh.prefix}.q.hex`), q);
    writeHexFile(path.join(dir, `${sh.prefix}.k.hex`), k);
    writeHexFile(path.join(dir, `${sh.prefix}.v.hex`), v);
    writeHexFile(path.join(dir, `${sh.prefix}.exp.hex`), e);
    writeHexFile(path.join(dir, `${sh.prefix}.sched.hex`), sched);
  }
  return st;
}
