/**
 * Testbench generation for moeHalf: one testbench holding several halves (one per config),
 * each with behavioral memories; per simulation run and instance a model, run block after
 * block from the golden trace's U1, checked against U2, S1, sel and the performance counters.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import type { GoldenStats, Model } from "../../model/golden.ts";
import { renderFile } from "../../render/render.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { packLanes } from "../../util/lanes.ts";
import { logicalMemory, renderRam1r1w } from "../memory/ram1r1w.ts";
import { moeHalfImage, moeHalfPorts, renderMoeHalf, type MoeHalfParams } from "./moeHalf.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
type T3 = number[][][];

export interface MoeTbInstance {
  r: Resolved;
  p: MoeHalfParams;
  label: string;
}

function umemOf(i: MoeTbInstance) {
  return logicalMemory(`${i.r.name}_tb_umem`, "umem (testbench)", i.p.umem.depth, i.p.umem.width);
}

/** Cycle budget of one block (watchdog): far above any schedule of the half. */
function maxCycles(i: MoeTbInstance): number {
  const g = { ...i.p.moe, ...i.p.geo, P: i.p.geo.lanes };
  const TN = g.T * g.N;
  return 10 * (2 * TN * g.tilesD + TN * (g.D + 8) + g.N + g.E * TN * (g.tilesF * (g.D + 8) + g.tilesD * (g.F + 8)) + 1000);
}

export function renderMoeTb(tbModule: string, insts: MoeTbInstance[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  for (const i of insts) {
    files.push(...renderMoeHalf(i.r, i.p));
    files.push(renderRam1r1w(i.r, umemOf(i), "sim"));
    for (const m of i.p.memories) files.push(renderRam1r1w(i.r, m.mem, "sim"));
  }
  const ctx = {
    tbModule,
    insts: insts.map((i, idx) => {
      const p = i.p;
      const g = { ...p.moe, ...p.geo, P: p.geo.lanes };
      const px = `i${idx}_`;
      const ports = moeHalfPorts(p);
      const fixed = new Set(["clk", "rst", "start", "cfg_block"]);
      return {
        idx,
        px,
        module: p.module,
        label: i.label,
        blkBits: p.blockBits,
        blkMsb: p.blockBits - 1,
        wires: ports.filter((q) => !fixed.has(q.name)).map((q) => ({ name: q.name, msb: q.width - 1 })),
        conns: ports.map((q) => ({ name: q.name, expr: q.name === "clk" || q.name === "rst" ? q.name : `${px}${q.name}` })),
        umemModule: umemOf(i).module,
        uW: p.umem.width,
        uWMsb: p.umem.width - 1,
        uDepthLast: p.umem.depth - 1,
        dMsb: g.D - 1,
        rowsLast: g.rows - 1,
        selMsb: (p.routing === "per-token" ? g.N : g.rows) - 1,
        eMsb: g.E - 1,
        T: g.T,
        N: g.N,
        nStride: 2 ** g.nBits,
        maxCycles: maxCycles(i),
        mems: p.memories.map((m) => ({ module: m.mem.module, prefix: m.prefix, rw: m.access === "rw", aBits: m.mem.addrBits, width: m.mem.width })),
        selRefs: [...Array(g.E).keys()].map((e) => ({
          e,
          ref: p.routing === "per-token" ? `${px}dut.g_tsel[${e}].tcol` : `${px}dut.g_sel[${e}].col`,
        })),
      };
    }),
  };
  files.push({ path: `${tbModule}.v`, kind: "tb", content: renderFile(path.join(here, "moeHalf_tb.v.hbs"), ctx) });
  return files;
}

// ---------------------------------------------------------------------------------------------
// Stimulus and expectations

/** Counter values after a block (cumulative since reset). */
export interface MoePerf {
  syn: number;
  s1: number;
  h: number;
  routed: number;
}

export interface MoeBlockData {
  u1: T3;
  u2: T3;
  s1: T3;
  sel: T3;
  perf: MoePerf;
}

export interface MoeRun {
  model: Model;
  blocks: MoeBlockData[];
}

/** Block data from a trace (golden or reference vectors) and the golden stats (cumulative counters). */
export function blocksFromTrace(r: Resolved, trace: Record<string, T3>, stats: GoldenStats): MoeBlockData[] {
  const out: MoeBlockData[] = [];
  const acc: MoePerf = { syn: 0, s1: 0, h: 0, routed: 0 };
  for (let b = 0; b < r.L; b++) {
    const s = stats.perLayer[b];
    acc.syn += s.syn.router + s.syn.fc1 + s.syn.fc2;
    acc.s1 += s.spikes.s1;
    acc.h += s.spikes.h;
    acc.routed += s.routed;
    const pre = `blocks.${b}.`;
    out.push({ u1: trace[pre + "u1"], u2: trace[pre + "u2"], s1: trace[pre + "s1"], sel: trace[pre + "sel"], perf: { ...acc } });
  }
  return out;
}

const hexOf = (v: bigint, width: number) => v.toString(16).padStart(Math.ceil(width / 4), "0");

/**
 * umem image of a [T][N][D] tensor: word row*tilesD + j, lane l = channel j*P + l.  Lanes
 * beyond D and the words of unused rows (n >= N) hold `junk` (deterministic in word, lane and
 * seed), which the half must leave unchanged (the final pass rewrites padding lanes with
 * sat(U1 + 0), i.e. unchanged).
 */
export function umemWords(p: MoeHalfParams, U: T3, junkSeed = 0): bigint[] {
  const g = { ...p.moe, ...p.geo, P: p.geo.lanes };
  const lo = -(2 ** (p.residBits - 1));
  const span = 2 ** p.residBits;
  const junk = (w: number, l: number) => (junkSeed === 0 ? 0 : lo + ((((w + 1) * 7919 + l * 104729 + junkSeed * 15485863) >>> 0) % span));
  const words: bigint[] = [];
  for (let w = 0; w < p.umem.depth; w++) words.push(packLanes([...Array(g.P).keys()].map((l) => junk(w, l)), p.residBits));
  for (let t = 0; t < g.T; t++)
    for (let n = 0; n < g.N; n++) {
      const row = t * 2 ** g.nBits + n;
      for (let j = 0; j < g.tilesD; j++) {
        const w = row * g.tilesD + j;
        const lanes = [...Array(g.P).keys()].map((l) => (j * g.P + l < g.D ? U[t][n][j * g.P + l] : junk(w, l)));
        words[w] = packLanes(lanes, p.residBits);
      }
    }
  return words;
}

function bitsOf(bits: number[]): bigint {
  let v = 0n;
  bits.forEach((b, i) => {
    if (b) v |= 1n << BigInt(i);
  });
  return v;
}

/**
 * Write the data of one simulation run: runs[i] is instance i's model and blocks; a nonzero
 * junkSeed fills umem's padding lanes and unused rows with junk (expected unchanged).
 */
export function writeMoeRun(dir: string, insts: MoeTbInstance[], runs: MoeRun[], junkSeed = 0): void {
  fs.mkdirSync(dir, { recursive: true });
  insts.forEach((inst, idx) => {
    const { r, p } = inst;
    const g = { ...p.moe, ...p.geo, P: p.geo.lanes };
    const run = runs[idx];
    const pre = path.join(dir, `i${idx}`);
    writeHexFile(`${pre}.meta.hex`, [run.blocks.length.toString(16)]);
    const img = moeHalfImage(r, p, run.model);
    for (const m of p.memories) {
      if (m.access !== "read") continue;
      writeHexFile(`${pre}.${m.mem.module}.hex`, img.get(m.mem.module)!.map((w) => hexOf(w, m.mem.width)));
    }
    run.blocks.forEach((blk, b) => {
      writeHexFile(`${pre}.b${b}.u1.hex`, umemWords(p, blk.u1, junkSeed && junkSeed + b).map((w) => hexOf(w, p.umem.width)));
      writeHexFile(`${pre}.b${b}.u2.hex`, umemWords(p, blk.u2, junkSeed && junkSeed + b).map((w) => hexOf(w, p.umem.width)));
      const s1 = new Array<bigint>(g.rows).fill(0n);
      for (let t = 0; t < g.T; t++) for (let n = 0; n < g.N; n++) s1[t * 2 ** g.nBits + n] = bitsOf(blk.s1[t][n]);
      writeHexFile(`${pre}.b${b}.s1.hex`, s1.map((w) => hexOf(w, g.D)));
      const sel: bigint[] = [];
      for (let e = 0; e < g.E; e++) {
        if (p.routing === "per-token") sel.push(bitsOf([...Array(g.N).keys()].map((n) => blk.sel[0][n][e])));
        else {
          const col = new Array<number>(g.rows).fill(0);
          for (let t = 0; t < g.T; t++) for (let n = 0; n < g.N; n++) col[t * 2 ** g.nBits + n] = blk.sel[t][n][e];
          sel.push(bitsOf(col));
        }
      }
      writeHexFile(`${pre}.b${b}.sel.hex`, sel.map((w) => hexOf(w, p.routing === "per-token" ? g.N : g.rows)));
      writeHexFile(
        `${pre}.b${b}.perf.hex`,
        [blk.perf.syn, blk.perf.s1, blk.perf.h, blk.perf.routed].map((v) => hexOf(BigInt(v), 64)),
      );
    });
  });
}

/** Parse the testbench's "CYCLES <label> <b> p1 p2 p3 p4 p5" lines: label -> per block phase cycles. */
export function phaseCycles(lines: string[]): Map<string, number[][]> {
  const m = new Map<string, number[][]>();
  for (const l of lines) {
    const x = /^CYCLES (\S+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(l);
    if (!x) continue;
    const arr = m.get(x[1]) ?? [];
    arr[Number(x[2])] = x.slice(3, 8).map(Number);
    m.set(x[1], arr);
  }
  return m;
}
