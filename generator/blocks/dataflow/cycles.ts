/**
 * Exact cycle model of the dataflow unit and its synaptic pool (docs/ARCHITECTURE.md
 * "## dataflow", "Cycle model").  Given the work of an inference (spikes of every row that
 * each pool layer and the router see, and the routing), it reproduces the hardware counters
 * cycle for cycle: busy cycles per (block, phase), and the cycles of every perf class of
 * the pool and of the router engine.  Asserted against the RTL by ./dataflow.test.ts.
 *
 * The schedule is data dependent only through the engines (event driven) and the overlaps:
 * attention(t) starts when v has written every row of timestep t and attention(t-1) is done;
 * o takes a row of timestep t once attention(t) is done; the router takes an S1 row once
 * LIF_m has written all of it.  Everything else has fixed latencies, named below.
 */
import type { Resolved } from "../../config/resolve.ts";
import type { Model } from "../../model/golden.ts";
import { lifStep } from "../lifArray/golden.ts";
import { linear } from "../linearEngine/golden.ts";
import { LINEAR_FIXED_OVERHEAD, PERF_CLASSES, type PerfClass } from "../linearEngine/linearEngine.ts";
import { attentionCycles } from "../attentionCore/attentionCore.ts";
import { DATAFLOW_PHASES, type DataflowParams, type DataflowPhase } from "./dataflow.ts";

type T3 = number[][][];

/** Fixed latencies of the schedule (cycles), as the RTL implements them. */
export const DATAFLOW_LATENCY = {
  /** pass: beyond one cycle per word (read, value register, LIF 2 stages / umem write) */
  pass: 4,
  finalPass: 2,
  /** a job ends this many cycles after the pool's done (its last write): q/k/v and fc1 (LIF 2 stages), o (U read, U1 register, LIF), fc2 (merge) */
  job: { q: 2, k: 2, v: 2, o: 4, fc1: 2, fc2: 1 },
  /** a V row's last beat -> visible in v_rows (LIF_qkv 2 stages + the counter) */
  vRow: 3,
  /** an O row's last beat -> visible in s1_rows (U read, U1, LIF_m 2 stages, the counter) */
  s1Row: 5,
  /** attention: at_can -> start pulse -> done: 1 + attentionCycles + ATT_DONE_EXTRA; done -> at_cnt visible: 1 */
  attStart: 1,
  attDone: 1,
  /** router done -> route_ready: per-step 1 (the last top-k write), per-token N + 2 (one top-k per token) */
  routeStep: 1,
  routeToken: 2,
} as const;

/** One row offered to an engine: its input spikes and the first cycle the feeder may issue it. */
export interface EngineRow {
  spikes: number;
  gate: number;
}

export interface EngineRun {
  /** cycle in which done is high */
  done: number;
  /** per row (in order): the cycle its last-tile beat is on out_valid */
  lastBeat: number[];
  /** perf classes over [start, done) */
  classes: Record<PerfClass, number>;
}

const zeroClasses = (): Record<PerfClass, number> => Object.fromEntries(PERF_CLASSES.map((c) => [c, 0])) as Record<PerfClass, number>;

/**
 * One layer on a linearEngine fed by a feeder (2-entry FIFO with bypass, read latency 1,
 * out_ready = 1), exact:
 *   start sampled at the end of cycle s; COLLECT from s + 1; the feeder may issue row r at
 *   cycle iss_r = max(gate_r, first, iss_{r-1} + 1, acc_{r-2}) (at most two rows issued and not
 *   accepted); row r is accepted at acc_r = max(iss_r + 1, next COLLECT slot); a group closes
 *   at its last row; per tile 2 + K_g cycles of ACC and n_g drain beats (a beat is on out_valid
 *   the cycle after its drain cycle); the next group collects from the cycle after the last drain;
 *   done is high 2 cycles after the last drain cycle (FINISH, then done).
 * @param first the first cycle the feeder may issue (its source becomes valid)
 */
export function engineRun(s: number, first: number, rows: EngineRow[], tiles: number, group: number, weights?: EngineWeights): EngineRun {
  if (!rows.length) throw new Error("engineRun: a layer has at least one row");
  const cls = zeroClasses();
  const iss: number[] = [];
  const acc: number[] = [];
  const lastBeat: number[] = [];
  let c0 = s + 1;
  let end = s;
  for (let r0 = 0; r0 < rows.length; r0 += group) {
    const n = Math.min(group, rows.length - r0);
    let K = 0;
    for (let i = 0; i < n; i++) {
      const r = r0 + i;
      const lo = Math.max(rows[r].gate, first, r > 0 ? iss[r - 1] + 1 : -Infinity, r > 1 ? acc[r - 2] : -Infinity);
      iss.push(lo);
      acc.push(Math.max(lo + 1, i === 0 ? c0 : acc[r - 1] + 1));
      K += rows[r].spikes;
    }
    const close = acc[r0 + n - 1];
    cls.collect += n;
    cls.starve += close - c0 + 1 - n;
    cls.work += tiles * K;
    cls.fill += 2 * tiles;
    cls.drain += tiles * n;
    if (!weights || K === 0) {
      const lastTile = close + 1 + (tiles - 1) * (2 + K + n);
      for (let i = 0; i < n; i++) lastBeat.push(lastTile + 2 + K + i + 1);
      end = lastTile + 2 + K + n; // first cycle after the last drain cycle
    } else {
      // weights streamed (estimate): tile j's accumulation ends no earlier than the cycle after
      // the last word of tile j (word j*fanin + fanin - 1) has arrived
      let t0 = close + 1;
      for (let j = 0; j < tiles; j++) {
        const accEnd = Math.max(t0 + 2 + K, weights.arrival(j * weights.fanin + weights.fanin - 1) + 1);
        cls.waitW += accEnd - (t0 + 2 + K);
        if (j === tiles - 1) for (let i = 0; i < n; i++) lastBeat.push(accEnd + i + 1);
        t0 = accEnd + n;
      }
      end = t0;
    }
    c0 = end;
  }
  cls.idle += LINEAR_FIXED_OVERHEAD;
  return { done: end + 1, lastBeat, classes: cls };
}

/** The weights of a layer streamed from off-chip (estimate only): its fan-in and the cycle each word has arrived. */
export interface EngineWeights {
  fanin: number;
  arrival: (word: number) => number;
}

// ---------------------------------------------------------------------------------------------
// Work of an inference

export interface ExpertJob {
  expert: number;
  /** routed rows in address order: S1 spikes (fc1 input) and hidden spikes (fc2 input) */
  s1: number[];
  h: number[];
}

export interface BlockWork {
  /** spikes of every row (t, n) in order, of S0, O and S1 */
  s0: number[];
  o: number[];
  s1: number[];
  /** experts with routed rows, in order */
  experts: ExpertJob[];
}

/** The work of every block, from the model and the golden trace (LIF_h recomputed as SPEC 1.3 does). */
export function dataflowWork(r: Resolved, model: Model, trace: Record<string, T3>): BlockWork[] {
  const { T, N, E, F, accBits } = r;
  const rowsOf = (X: T3) => X.flatMap((Xt) => Xt.map((row) => row.reduce((a, b) => a + (b ? 1 : 0), 0)));
  const out: BlockWork[] = [];
  for (let b = 0; b < r.L; b++) {
    const tr = (s: string) => trace[`blocks.${b}.${s}`];
    const S1 = tr("s1");
    const sel = tr("sel");
    const s1 = rowsOf(S1);
    const experts: ExpertJob[] = [];
    for (let e = 0; e < E; e++) {
      const ew = model.blocks[b].experts[e];
      const W = [...Array(N)].map(() => new Array<number>(F).fill(0));
      const job: ExpertJob = { expert: e, s1: [], h: [] };
      for (let t = 0; t < T; t++)
        for (let n = 0; n < N; n++) {
          if (!sel[t][n][e]) continue;
          const h = linear(S1[t][n], ew.fc1.weight, ew.fc1.bias, accBits);
          let nh = 0;
          for (let f = 0; f < F; f++) {
            const res = lifStep(W[n][f], h[f], r.lif.hidden);
            W[n][f] = res.W;
            nh += res.S;
          }
          job.s1.push(s1[t * N + n]);
          job.h.push(nh);
        }
      if (job.s1.length) experts.push(job);
    }
    out.push({ s0: rowsOf(tr("s0")), o: rowsOf(tr("o")), s1, experts });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The schedule

export interface DataflowCycles {
  /** busy cycles per block and phase (the counters of ctrl; "final" only in the last block) */
  perBlock: Record<DataflowPhase, number>[];
  /** start sampled -> done pulse: the busy cycles */
  total: number;
  /** perf classes of the pool and of the router engine over the busy cycles */
  pool: Record<PerfClass, number>;
  router: Record<PerfClass, number>;
  /** the attention unit: busy cycles, and cycles the o layer waited for it (pool starving in o) */
  attention: { busy: number; exposed: number };
  /** weights streamed (an estimate, dataflowCyclesStreamed): every pool layer's fetch and use */
  stream?: StreamLayerTiming[];
}

/** The off-chip memory of a streamed estimate: st3d run's --mem-latency / --mem-bandwidth, and the beat. */
export interface StreamMemory {
  latency: number;
  bytesPerCycle: number;
  beatBits: number;
  beatsPerWord: number;
}

/** One pool layer with the weights streamed: descriptor taken, first and last beat, the layer's use, its waitW cycles. */
export interface StreamLayerTiming {
  block: number;
  layer: "q" | "k" | "v" | "o" | "fc1" | "fc2";
  expert: number | null;
  words: number;
  take: number;
  dataStart: number;
  dataEnd: number;
  useStart: number;
  useEnd: number;
  waitW: number;
}

/** The exact cycle model with the weights on chip (asserted against the RTL). */
export function dataflowCycles(p: DataflowParams, work: BlockWork[]): DataflowCycles {
  return schedule(p, work, undefined);
}

/**
 * An ESTIMATE of the cycles with the weights streamed (hardware.weightsOnChip false; not exact
 * cycle for cycle: test/weightsStreamRuns.ts holds it within 10 % of the RTL's cycles and WWAIT).  The on-chip
 * schedule, with every pool layer fetched through the double-buffered weight buffer as
 * docs/ARCHITECTURE.md "weightStream" describes: descriptors in the pool's order of use, q/k/v/o
 * of block 0 offered at start, the experts of block b (and what follows them) once its routing
 * is final; a descriptor taken once the half of the layer before the previous one is released
 * (its use done and its fill complete); its first beat L + 1 cycles later or right after the
 * previous layer's last beat, then min(1, bandwidth / beat bytes) beats per cycle (the memory
 * model's bursts queue, so one latency per layer); a tile's accumulation ends no earlier than
 * the cycle after its last word arrived; the inference ends no earlier than the last beat.
 */
export function dataflowCyclesStreamed(p: DataflowParams, work: BlockWork[], mem: StreamMemory): DataflowCycles {
  return schedule(p, work, mem);
}

function schedule(p: DataflowParams, work: BlockWork[], mem: StreamMemory | undefined): DataflowCycles {
  const g = p.geo;
  const { T, N } = g;
  const TN = T * N;
  const W = TN * g.tilesD;
  const A = attentionCycles(p.attn);
  const Lat = DATAFLOW_LATENCY;
  const pool = zeroClasses();
  const router = zeroClasses();
  const add = (into: Record<PerfClass, number>, c: Record<PerfClass, number>) => {
    for (const k of PERF_CLASSES) into[k] += c[k];
  };
  const perBlock: Record<DataflowPhase, number>[] = [];
  let attBusy = 0;
  let exposed = 0;
  let c = 0; // next cycle (the first PASS cycle is 0)
  // weights streamed: the layers fetched so far, and when the sequencer may offer the next one
  const layers: StreamLayerTiming[] = [];
  const beatsPerCycle = mem ? Math.min(1, mem.bytesPerCycle / (mem.beatBits / 8)) : 0;
  let offer = 0;
  const fetch = (block: number, layer: StreamLayerTiming["layer"], expert: number | null, words: number): StreamLayerTiming => {
    const i = layers.length;
    const prev = layers[i - 1];
    const twoBack = layers[i - 2];
    const take = Math.max(offer, prev ? prev.take + 1 : 0, twoBack ? Math.max(twoBack.useEnd + 1, twoBack.dataEnd) : 0);
    const dataStart = Math.max(take + 1 + mem!.latency, prev ? prev.dataEnd + 1 : 0);
    const x = { block, layer, expert, words, take, dataStart, dataEnd: dataStart + Math.ceil((words * mem!.beatsPerWord - 1) / beatsPerCycle), useStart: 0, useEnd: 0, waitW: 0 };
    layers.push(x);
    return x;
  };
  const ungated = (spikes: number[]) => spikes.map((k) => ({ spikes: k, gate: -Infinity }));
  for (let b = 0; b < g.L; b++) {
    const w = work[b];
    if (w.s0.length !== TN || w.o.length !== TN || w.s1.length !== TN) throw new Error(`dataflowCycles: block ${b} needs ${TN} rows of S0, O and S1`);
    const ph = Object.fromEntries(DATAFLOW_PHASES.map((x) => [x, 0])) as Record<DataflowPhase, number>;
    ph.lif_a = W + Lat.pass;
    c += ph.lif_a;
    const job = (name: "q" | "k" | "v" | "o" | "fc1" | "fc2", rows: EngineRow[], tiles: number, expert: number | null = null) => {
      const s = c;
      const fanin = name === "fc2" ? g.F : g.D;
      const f = mem ? fetch(b, name, expert, tiles * fanin) : null;
      // word a is granted from the cycle after its last beat
      const arrival = (a: number) => f!.dataStart + Math.ceil(((a + 1) * mem!.beatsPerWord - 1) / beatsPerCycle) + 1;
      const run = engineRun(s, s, rows, tiles, g.G, f ? { fanin, arrival } : undefined);
      if (f) Object.assign(f, { useStart: s, useEnd: run.done, waitW: run.classes.waitW });
      add(pool, run.classes);
      const dur = run.done - s + Lat.job[name];
      ph[name] += dur;
      c += dur;
      return { s, run, end: s + dur - 1 };
    };
    job("q", ungated(w.s0), g.tilesD);
    job("k", ungated(w.s0), g.tilesD);
    const v = job("v", ungated(w.s0), g.tilesD);
    // attention: timestep t when v has written every row of t and t-1 is done
    const attDone: number[] = [];
    for (let t = 0; t < T; t++) {
      const vr = v.run.lastBeat[t * N + N - 1] + Lat.vRow;
      const can = Math.max(t === 0 ? v.s : attDone[t - 1] + 1, vr);
      attDone.push(can + Lat.attStart + A + Lat.attDone);
      attBusy += A + Lat.attDone;
    }
    // o: a row of timestep t once attention(t) is visible as done
    const oRows = w.o.map((k, i) => ({ spikes: k, gate: attDone[Math.floor(i / N)] + 1 }));
    const o = job("o", oRows, g.tilesD);
    exposed += o.run.classes.starve;
    // router: S1 row k once LIF_m has written it
    const rRows = w.s1.map((k, i) => ({ spikes: k, gate: o.run.lastBeat[i] + Lat.s1Row }));
    const rt = engineRun(o.s, o.s + 1, rRows, g.tilesR, g.G);
    add(router, rt.classes);
    const ready = rt.done + (p.routing === "per-token" ? N + Lat.routeToken : Lat.routeStep);
    ph.route = Math.max(o.end + 1, ready) - o.end;
    c += ph.route;
    offer = c; // the routing is final: the sequencer offers the experts of block b (then block b + 1)
    // experts: one select cycle each, then fc1 and fc2 of the experts with routed rows
    const byExpert = new Map(w.experts.map((x) => [x.expert, x]));
    for (let e = 0; e < g.E; e++) {
      ph.fc1 += 1;
      c += 1;
      const x = byExpert.get(e);
      if (!x) continue;
      job("fc1", ungated(x.s1), g.tilesF, e);
      job("fc2", ungated(x.h), g.tilesD, e);
    }
    perBlock.push(ph);
  }
  perBlock[g.L - 1].final = W + Lat.finalPass;
  c += W + Lat.finalPass;
  // an inference ends only when the stream is idle
  const total = layers.length ? Math.max(c, layers[layers.length - 1].dataEnd + 1) : c;
  // outside its layers an engine is idle
  const sumCls = (x: Record<PerfClass, number>) => PERF_CLASSES.reduce((a, k) => a + x[k], 0);
  pool.idle += total - sumCls(pool);
  router.idle += total - sumCls(router);
  return { perBlock, total, pool, router, attention: { busy: attBusy, exposed }, ...(mem ? { stream: layers } : {}) };
}
