/**
 * Testbench generation for attnHalf: one top testbench holding one sub-testbench per shape
 * (config), each with behavioral models (ram1r1w) of every memory of the half and of umem,
 * and, per data set, the memory images and the expected contents written from a model, an
 * input and the golden trace (runGolden, or a reference vector's trace).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderFile } from "../../render/render.ts";
import { maxS, minS } from "../../util/bits.ts";
import { Prng } from "../../util/prng.ts";
import { runGolden, type Model } from "../../model/golden.ts";
import { renderRam1r1w, type LogicalMemory } from "../memory/ram1r1w.ts";
import { attnHalfCycleBound, attnHalfCycles, attnHalfImage, attnHalfParams, attnHalfPorts, attnHalfUmemImage, renderAttnHalf, ATTN_LAYERS, type AttnHalfCycles, type AttnHalfParams } from "./attnHalf.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

type T3 = number[][][];

export interface AttnHalfTbShape {
  r: Resolved;
  p: AttnHalfParams;
  /** file prefix in the data folder (= r.name) */
  prefix: string;
  /** runs: blocks 0 .. runs-1 */
  runs: number;
}

export function attnHalfTbShape(r: Resolved): AttnHalfTbShape {
  return { r, p: attnHalfParams(r), prefix: r.name, runs: Math.min(r.L, 2) };
}

const hexOf = (v: bigint, width: number) => v.toString(16).padStart(Math.ceil(width / 4), "0");

function memWidthHex(words: bigint[], width: number): string[] {
  return words.map((w) => hexOf(w, width));
}

export function renderAttnHalfTb(tbModule: string, shapes: AttnHalfTbShape[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  let worstNs = 0;
  const subs = shapes.map((sh) => {
    const { r, p } = sh;
    files.push(...renderAttnHalf(r, p));
    const mems: LogicalMemory[] = [...p.memories.map((m) => m.mem), p.umem];
    for (const m of mems) files.push(renderRam1r1w(r, m, "sim"));
    const tbsModule = `${r.name}_attnHalf_tbs`;
    const bound = attnHalfCycleBound(p);
    worstNs = Math.max(worstNs, 10 * sh.runs * (bound + 200 + p.geo.rows * 8));
    const ports = attnHalfPorts(p);
    const ctx = {
      tbsModule,
      module: p.module,
      prefix: sh.prefix,
      runs: sh.runs,
      cycleLimit: bound + 100,
      blkMsb: p.blockBits - 1,
      rowsLast: p.geo.rows - 1,
      uLast: p.umem.depth - 1,
      DMsb: p.D - 1,
      uWordMsb: p.umem.width - 1,
      uWordBits: p.umem.width,
      wires: ports.filter((q) => !["clk", "rst", "start", "cfg_block"].includes(q.name)).map((q) => ({ name: q.name, range: q.width > 1 ? `[${q.width - 1}:0] ` : "" })),
      conns: ports.map((q, i) => ({ name: q.name, sep: i === ports.length - 1 ? "" : "," })),
      mems: p.memories.map((m) => ({
        module: m.mem.module,
        prefix: m.prefix,
        rw: m.access === "rw",
        aw: m.mem.addrBits,
        w: m.mem.width,
        junk: m.prefix.startsWith("la") || m.prefix.startsWith("lif"),
      })),
      umemModule: p.umem.module,
    };
    files.push({ path: `${tbsModule}.v`, kind: "tb", content: renderFile(path.join(here, "attnHalf_tb.v.hbs"), ctx) });
    return { tbsModule };
  });
  files.push({
    path: `${tbModule}.v`,
    kind: "tb",
    content: renderFile(path.join(here, "attnHalf_tb_top.v.hbs"), { tbModule, shapes: subs, timeoutNs: 2 * worstNs + 100000 }),
  });
  return files;
}

// ---------------------------------------------------------------------------------------------
// Stimulus

export interface AttnHalfCase {
  shape: AttnHalfTbShape;
  model: Model;
  U0: T3;
  /** expected trace (blocks.{b}.{s0,q,k,v,o,u1,u2}); default: runGolden's */
  trace?: Record<string, T3>;
}

export interface AttnHalfRunInfo {
  block: number;
  cycles: AttnHalfCycles;
  /** cumulative perf counters expected after this run */
  perfSyn: number;
  perfSpk: number;
  perfSpkO: number;
  /** Lin_q/k/v/o outputs clamped by sat_accBits, U + Lin_o clamped by sat_residBits */
  accSat: number;
  residSat: number;
  /** spikes of S0 / Q / K / V / O */
  spikes: Record<"s0" | "q" | "k" | "v" | "o", number>;
}

function rowWord(bits: number[]): bigint {
  let v = 0n;
  for (let c = bits.length - 1; c >= 0; c--) v = (v << 1n) | BigInt(bits[c] ? 1 : 0);
  return v;
}

function randBig(rng: Prng, width: number): bigint {
  let v = 0n;
  for (let b = 0; b < width; b += 16) v = (v << 16n) | BigInt(rng.int(0, 0xffff));
  return v & ((1n << BigInt(width)) - 1n);
}

const count = (S: T3) => S.reduce((a, St) => a + St.reduce((b, s) => b + s.reduce((c, x) => c + (x ? 1 : 0), 0), 0), 0);

/**
 * Write every file the sub-testbench of `c.shape` reads for one data set; returns per run the
 * expected cycles, perf counters and saturation statistics.
 */
export function writeAttnHalfCase(dir: string, c: AttnHalfCase, seed: number): AttnHalfRunInfo[] {
  fs.mkdirSync(dir, { recursive: true });
  const { r, p, prefix } = c.shape;
  const rng = new Prng(seed * 7919 + 13);
  const trace = c.trace ?? runGolden(r, c.model, c.U0).trace;
  const file = (name: string) => path.join(dir, `${prefix}.${name}.hex`);
  const write = (name: string, words: bigint[], width: number) => fs.writeFileSync(file(name), memWidthHex(words, width).join("\n") + "\n");

  const img = attnHalfImage(r, p, c.model);
  for (const m of p.memories.filter((m) => m.hostWritable)) write(m.prefix, img.get(m.mem.module)!, m.mem.width);

  const infos: AttnHalfRunInfo[] = [];
  let perfSyn = 0;
  let perfSpk = 0;
  let perfSpkO = 0;
  const D = p.D;
  for (let b = 0; b < c.shape.runs; b++) {
    const U = b === 0 ? c.U0 : trace[`blocks.${b - 1}.u2`];
    const tr = (s: string) => trace[`blocks.${b}.${s}`];
    const [S0, Q, K, V, O, U1] = ["s0", "q", "k", "v", "o", "u1"].map(tr);
    // umem: junk in the hole rows and padding lanes (must survive unchanged)
    const junk = new Map<string, number>();
    const fill = (addr: number, lane: number) => {
      const k = `${addr}/${lane}`;
      if (!junk.has(k)) junk.set(k, rng.int(minS(p.residBits), maxS(p.residBits)));
      return junk.get(k)!;
    };
    write(`r${b}.u`, attnHalfUmemImage(p, U, fill), p.umem.width);
    write(`r${b}.uexp`, attnHalfUmemImage(p, U1, fill), p.umem.width);
    // spike buffers: junk everywhere initially; expected = the stage's rows, junk in the holes
    const bufImage = (S: T3 | null, init: bigint[]) =>
      init.map((w, row) => {
        const t = row >> p.geo.nBits;
        const n = row & ((1 << p.geo.nBits) - 1);
        return S && n < p.N && t < p.T ? rowWord(S[t][n]) : w;
      });
    for (const [buf, exps] of [
      ["s", [["s0", S0], ["o", O]]],
      ["q", [["q", Q]]],
      ["k", [["k", K]]],
      ["v", [["v", V]]],
    ] as [string, [string, T3][]][]) {
      const init = [...Array(p.geo.rows)].map(() => randBig(rng, D));
      write(`r${b}.${buf}init`, init, D);
      for (const [name, S] of exps) write(`r${b}.${name}exp`, bufImage(S, init), D);
    }
    // LIF state memories: junk (every LIF layer starts at t = 0 with in_first)
    for (const m of p.memories.filter((m) => m.prefix.startsWith("lif") || m.prefix.startsWith("la")))
      write(`r${b}.${m.prefix}`, [...Array(m.mem.depth)].map(() => randBig(rng, m.mem.width)), m.mem.width);

    // expected counters, cycles, saturation statistics
    const spikes = { s0: count(S0), q: count(Q), k: count(K), v: count(V), o: count(O) };
    perfSyn += 3 * spikes.s0 * D + spikes.o * D;
    perfSpk += spikes.s0 + spikes.q + spikes.k + spikes.v;
    perfSpkO += spikes.o;
    const rowsOf = (S: T3) => S.flatMap((St) => St.map((s) => s.reduce((a, x) => a + (x ? 1 : 0), 0)));
    const cycles = attnHalfCycles(p, rowsOf(S0), rowsOf(O));
    let accSat = 0;
    let residSat = 0;
    const bw = c.model.blocks[b];
    ATTN_LAYERS.forEach((name) => {
      const S = name === "o" ? O : S0;
      const lw = bw[name];
      for (let t = 0; t < p.T; t++)
        for (let n = 0; n < p.N; n++)
          for (let o = 0; o < D; o++) {
            let acc = lw.bias[o];
            for (let ch = 0; ch < D; ch++) if (S[t][n][ch]) acc += lw.weight[o][ch];
            if (acc > maxS(r.accBits) || acc < minS(r.accBits)) accSat++;
            if (name === "o") {
              const lo = Math.max(minS(r.accBits), Math.min(maxS(r.accBits), acc));
              const u = U[t][n][o] + lo;
              if (u > maxS(r.residBits) || u < minS(r.residBits)) residSat++;
            }
          }
    });
    const mask64 = (1n << 64n) - 1n;
    write(`r${b}.meta`, [BigInt(b), BigInt(perfSyn), BigInt(perfSpk), BigInt(perfSpkO)].map((x) => x & mask64), 64);
    infos.push({ block: b, cycles, perfSyn, perfSpk, perfSpkO, accSat, residSat, spikes });
  }
  return infos;
}
