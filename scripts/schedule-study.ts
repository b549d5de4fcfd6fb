/**
 * Schedule study (issue #14): cycle models of candidate schedules driven by the golden
 * model's real spike rows, before any RTL.  `npx tsx scripts/schedule-study.ts [preset] [densities...]`
 * Prints, per density: synaptic ops by layer, and cycles / utilization of
 *   today  : the sequential halves (attnHalfCycles + moeHalfCycles of main)
 *   split  : attention engine Pa lanes + expert cores Pm lanes, ideal (block, t) wavefront
 *            (per block max(attention ops / Pa, MoE ops / Pm), no fill or drain): an upper
 *            bound for any split, with the best split found by search for each density
 *   pool   : one shared pool of P lanes, layer by layer (candidate of this issue)
 */
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { runGolden } from "../generator/model/golden.ts";
import { randomModel } from "../generator/model/tensors.ts";
import { dataflowCycles, dataflowWork } from "../generator/blocks/dataflow/cycles.ts";
import { dataflowParams } from "../generator/blocks/dataflow/dataflow.ts";
import { linearCycles } from "../generator/blocks/linearEngine/linearEngine.ts";
import { attentionCycles, attentionParams } from "../generator/blocks/attentionCore/attentionCore.ts";

const args = process.argv.slice(2);
const preset = args[0] ?? "cifar";
const skew = args.includes("--skew");
const rest = args.slice(1).filter((a) => a !== "--skew");
const densities = rest.length ? rest.map(Number) : [0.05, 0.1, 0.15, 0.2, 0.4];
const r = resolve(loadConfig(preset));
const { T, N, D, F, E, L } = r;
const G = r.hw.tokenGroup;
const rowsOf = (X: number[][][]) => X.flatMap((Xt) => Xt.map((row) => row.reduce((a, b) => a + b, 0)));
const att = attentionCycles(attentionParams(r, { lifSets: 1 }));

/** linear layer cycles with the drain hidden behind the next tile's accumulation (double accumulators) */
function linearCyclesOverlap(rows: number[], tiles: number, g: number): number {
  let cyc = 2;
  for (let i = 0; i < rows.length; i += g) {
    const grp = rows.slice(i, i + g);
    const K = grp.reduce((a, b) => a + b, 0);
    cyc += grp.length + tiles * (2 + Math.max(K, grp.length)) + grp.length;
  }
  return cyc;
}

for (const density of densities) {
  const { model, input } = randomModel(r, 1, density);
  // a router that sends (almost) every token to expert 0: large positive bias on expert 0
  if (skew) for (const b of model.blocks) b.router.bias[0] = 2 ** (r.biasBits - 1) - 1;
  const g = runGolden(r, model, input);
  const syn = { q: 0, k: 0, v: 0, o: 0, router: 0, fc1: 0, fc2: 0 };
  for (const s of g.stats.perLayer) for (const k of Object.keys(syn) as (keyof typeof syn)[]) syn[k] += s.syn[k];
  const total = g.stats.syn;
  const dens = g.stats.perLayer.map((s) => `s0 ${(s.spikes.s0 / s.neurons.s0).toFixed(3)} o ${(s.spikes.o / s.neurons.o).toFixed(3)} s1 ${(s.spikes.s1 / s.neurons.s1).toFixed(3)} h ${(s.spikes.h / Math.max(1, s.neurons.h)).toFixed(3)}`);
  console.log(`\n=== ${preset} density ${density}: syn ${total} (${Object.entries(syn).map(([k, v]) => `${k} ${(100 * v / total).toFixed(1)}%`).join(", ")})`);
  for (const [b, d] of dens.entries()) console.log(`  block ${b}: ${d}`);
  // per block work
  const work = dataflowWork(r, model, g.trace);
  const blocks = [...Array(L).keys()].map((b) => {
    const pre = `blocks.${b}.`;
    const s0 = rowsOf(g.trace[pre + "s0"]);
    const o = rowsOf(g.trace[pre + "o"]);
    const w = { s1Row: work[b].s1, experts: [...Array(E).keys()].map((e) => work[b].experts.find((x) => x.expert === e) ?? { s1: [] as number[], h: [] as number[] }) };
    const st = g.stats.perLayer[b];
    const attnOps = st.syn.q + st.syn.k + st.syn.v + st.syn.o;
    const moeOps = st.syn.router + st.syn.fc1 + st.syn.fc2;
    return { s0, o, w, attnOps, moeOps };
  });

  const perExp = g.stats.perLayer.map((s) => s.routedPerExpert.join("/"));
  console.log(`  routed per expert: ${perExp.join("  ")}`);
  // ---- today (main): sequential halves
  {
    let cyc = 0;
    for (const bk of blocks) {
      const tD = Math.ceil(D / 16);
      const q = linearCycles(bk.s0, tD, G) + 3;
      const o = linearCycles(bk.o, tD, G) + 3;
      const core = [0, 0, 0, 0];
      bk.w.experts.forEach((e: { s1: number[]; h: number[] }, i: number) => (core[i % 4] += e.s1.length ? 4 + linearCycles(e.s1, Math.ceil(F / 16), G) + linearCycles(e.h, tD, G) : 1));
      cyc += 2 * (T * N * tD + 3) + 3 * q + o + T * (att + 2) + linearCycles(bk.w.s1Row, 1, G) + 1 + Math.max(...core) + 2 + T * N * tD + 1;
    }
    console.log(`  today (sequential halves, 84 lanes, lower bound): ${cyc} cycles, util ${(100 * total / (84 * cyc)).toFixed(1)}%`);
  }
  // ---- split, ideal wavefront: best split of 80 lanes between attention and experts (+E router)
  let best = { cyc: Infinity, pa: 0 };
  const splitRows: string[] = [];
  for (let pa = 8; pa <= 72; pa += 8) {
    const pm = 80 - pa;
    let cyc = 0;
    for (const bk of blocks) cyc += Math.max(bk.attnOps / pa, (bk.moeOps - 0) / pm);
    if (cyc < best.cyc) best = { cyc, pa };
    if (pa % 16 === 0) splitRows.push(`Pa ${pa}: ${(100 * total / (84 * cyc)).toFixed(1)}%`);
  }
  console.log(`  split (ideal wavefront, 84 lanes): best Pa ${best.pa} -> ${(100 * total / (84 * best.cyc)).toFixed(1)}%; ${splitRows.join(", ")}`);

  // ---- pool candidates
  for (const [P, overlapDrain] of [
    [64, false],
    [80, false],
    [77, false],
    [64, true],
    [80, true],
  ] as [number, boolean][]) {
    const lanes = P + E;
    const tD = Math.ceil(D / P);
    const tF = Math.ceil(F / P);
    const lin = overlapDrain ? linearCyclesOverlap : linearCycles;
    let cyc = 0;
    const parts = { lifa: 0, qkv: 0, o: 0, att: 0, router: 0, experts: 0 };
    for (const bk of blocks) {
      const words = T * N * tD;
      const q = lin(bk.s0, tD, G);
      const o = lin(bk.o, tD, G);
      // attention of the last timestep exposed only if longer than o on the earlier timesteps
      const oEarly = lin(bk.o.slice(0, (T - 1) * N), tD, G);
      const attExposed = Math.max(0, att - oEarly) + (T === 1 ? att : 0);
      // router tail after o: the last group's S1 rows
      const s1 = bk.w.s1Row;
      const routerTail = linearCycles(s1.slice(-G), 1, G) + 4;
      let ex = 0;
      for (const e of bk.w.experts) if (e.s1.length) ex += lin(e.s1, tF, G) + lin(e.h, tD, G) + 6;
      parts.lifa += words + 4;
      parts.qkv += 3 * q;
      parts.o += o;
      parts.att += attExposed;
      parts.router += routerTail;
      parts.experts += ex;
      cyc += words + 4 + 3 * q + o + attExposed + routerTail + ex;
    }
    const util = total / (lanes * cyc);
    void 0;
    console.log(
      `  pool P ${P}${overlapDrain ? " +drain overlap" : ""} (${lanes} lanes): ${cyc.toFixed(0)} cycles, util ${(100 * util).toFixed(1)}%  [` +
        Object.entries(parts).map(([k, v]) => `${k} ${v}`).join(" ") + "]",
    );
  }
}

// The implemented design (this preset's resolved hardware), with its exact cycle model
{
  const p = dataflowParams(r);
  for (const density of densities) {
    const { model, input } = randomModel(r, 1, density);
    if (skew) for (const b of model.blocks) b.router.bias[0] = 2 ** (r.biasBits - 1) - 1;
    const g = runGolden(r, model, input);
    const m = dataflowCycles(p, dataflowWork(r, model, g.trace));
    const lanes = r.hw.poolLanes + r.hw.routerLanes;
    console.log(`implemented (pool ${r.hw.poolLanes} + router ${r.hw.routerLanes} lanes), density ${density}: ${m.total} cycles, util ${((100 * g.stats.syn) / (lanes * m.total)).toFixed(1)}%, pool work ${(100 * m.pool.work * r.hw.poolLanes / (lanes * m.total)).toFixed(1)}% of lane-cycles`);
  }
}
