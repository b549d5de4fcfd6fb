/**
 * attentionCore / attentionUnit — spiking self-attention (SPEC.md §1.3, "ssa" and "sdsa").
 * Parameters, derivation, cycle model and rendering.  Golden model: ./golden.ts.
 * Testbench: ./attentionCore_tb.v.hbs (+ ./attentionCore_tb_top.v.hbs, ./testbench.ts).
 * Tests: ./attentionCore.test.ts.  Micro-architecture: docs/ARCHITECTURE.md "## attention".
 *
 * attentionCore: one physical core computes one head (d = D/H channels) at a time.
 *   ssa : the core latches K and V of its head for all N tokens of the timestep (the
 *         "array", 2*N*d flops); per query it visits one key per cycle with the d
 *         channels in parallel: A = popcount(Q_i & K_j) (d-input adder tree), then
 *         Y[c] += V[j][c] ? A : 0 for the d lanes; the attention row A[i][*] only exists
 *         inside the core.  After the last key X = sat_accBits(Y >> attnShift) feeds a
 *         lifArray (family attn, d lanes) whose state memory pins are the core's la_*.
 *   sdsa: kv[c] = OR_j K[j][c] & V[j][c] accumulated while K/V stream in (double-buffered,
 *         d + d flops); per query O = Q & kv, one query per cycle; no LIF.
 * attentionUnit: C = attnCores cores in lockstep; pass p handles heads p*C .. p*C+C-1
 *   (the last pass partially idle when C does not divide H).  Reads Q/K/V rows at address
 *   {t, n} (ARCHITECTURE.md "Conventions"), writes O rows with a write mask (only the pass's heads).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Geometry, Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { zext } from "../../render/verilog.ts";
import { adderTree, busBits } from "../../util/adderTree.ts";
import { idxBits, maxS, unsignedBitsFor } from "../../util/bits.ts";
import { lifArrayParams, renderLifArray, type LifArrayParams } from "../lifArray/lifArray.ts";
import { logicalMemory, renderRam1r1w } from "../memory/ram1r1w.ts";
import type { Block, BlockMemory } from "../block.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface AttentionOptions {
  /** physical cores (default r.hw.attnCores) */
  cores?: number;
  /**
   * independent LIF_attn instances sharing the unit (e.g. one per encoder block, SPEC:
   * "every LIF is its own instance"); > 1 adds a `cfg_set` input selecting the state region.
   */
  lifSets?: number;
}

/** One (core, pass) slot: the head it computes, or idle. */
export interface AttnSlot {
  pass: number;
  head: number;
  /** lsb of the head's channels in a D-bit row */
  lsb: number;
}

/** Where each head's d bits of O come from: core `core` in pass `pass`. */
export interface AttnHead {
  head: number;
  lsb: number;
  core: number;
  pass: number;
}

export interface AttentionParams {
  mode: "ssa" | "sdsa";
  unitModule: string;
  coreModule: string;
  T: number;
  N: number;
  D: number;
  H: number;
  d: number;
  /** physical cores C */
  cores: number;
  /** passes P = ceil(H / C) */
  passes: number;
  lifSets: number;
  /**
   * the row geometry (r.geo): Q/K/V/O rows {t, n} of geo.rowAddrBits bits in buffers of
   * geo.rows rows; cfg_t is geo.tBits wide, token and key indices geo.nBits
   */
  geo: Geometry;
  /** width of cfg_set (idxBits(lifSets)) and of the pass counter (idxBits(passes)) */
  setBits: number;
  passBits: number;
  /** ssa: popcount width (holds d), Y accumulator width (holds N*d), X width (= accBits) */
  aBits: number;
  yBits: number;
  xBits: number;
  accBits: number;
  attnShift: number;
  /** largest X (maxS(accBits)); saturation logic is emitted only when Y >> attnShift can exceed it */
  satMax: number;
  satNeeded: boolean;
  /** ssa: state-word address width (lifArray addrBits) and stored state-word width */
  stateAddrBits: number;
  stateWordBits: number;
  /** ssa: the LIF_attn array inside each core (d lanes, depth lifSets * P * N) */
  lif?: LifArrayParams;
  /** per core: the heads it handles, one slot per active pass */
  slots: AttnSlot[][];
  heads: AttnHead[];
  /**
   * the memories the unit reaches through its la<c>_* pins: LIF_attn state, one per core
   * (none for sdsa).  Q/K/V/O are the parent's row buffers (geo.rows x D), read through
   * q_/k_/v_ and written through o_.
   */
  memories: BlockMemory[];
  /** cycles of one timestep, start to done (see attentionCycles) */
  cycles: number;
}

export function attentionParams(r: Resolved, opts: AttentionOptions = {}): AttentionParams {
  const C = opts.cores ?? r.hw.attnCores;
  // sdsa has no LIF: lifSets does not apply (no cfg_set port)
  const sets = r.attention === "ssa" ? (opts.lifSets ?? 1) : 1;
  const { N, D, H, d, T } = r;
  // hardware.attnCores is checked at validation; these guard the options of standalone uses (tests)
  if (!Number.isInteger(C) || C < 1 || C > H) throw new Error(`internal: attentionParams: cores = ${C} outside 1..${H}`);
  if (!Number.isInteger(sets) || sets < 1) throw new Error(`internal: attentionParams: lifSets = ${sets} must be an integer >= 1`);
  const P = Math.ceil(H / C);
  const mode = r.attention;
  const aBits = unsignedBitsFor(d);
  const yBits = unsignedBitsFor(N * d);
  const xBits = r.accBits;
  const satMax = maxS(r.accBits);
  // saturation needed iff Y >> attnShift can exceed satMax; the template needs yBits >= xBits for it
  const satNeeded = yBits >= xBits;
  const slots: AttnSlot[][] = [];
  for (let c = 0; c < C; c++) {
    const s: AttnSlot[] = [];
    for (let p = 0; p < P; p++) {
      const h = p * C + c;
      if (h < H) s.push({ pass: p, head: h, lsb: h * d });
    }
    slots.push(s);
  }
  const heads: AttnHead[] = [];
  for (let h = 0; h < H; h++) heads.push({ head: h, lsb: h * d, core: h % C, pass: Math.floor(h / C) });
  const unitModule = `${r.name}_attentionUnit`;
  const coreModule = `${r.name}_attentionCore`;
  let lif: LifArrayParams | undefined;
  const memories: BlockMemory[] = [];
  if (mode === "ssa") {
    lif = lifArrayParams(r, r.lif.attn, "attn", sets * P * N * d, d);
    for (let c = 0; c < C; c++)
      memories.push({
        mem: logicalMemory(`${r.name}_attn_la${c}_state`, `LIF_attn membrane state, attention core ${c}`, lif.depth, lif.lanes * lif.wBits, { kind: "state" }),
        prefix: `la${c}`,
        access: "rw",
        hostWritable: false,
        role: `LIF_attn membrane state of attention core ${c}`,
      });
  }
  const p: AttentionParams = {
    mode,
    unitModule,
    coreModule,
    T,
    N,
    D,
    H,
    d,
    cores: C,
    passes: P,
    lifSets: sets,
    geo: r.geo,
    setBits: idxBits(sets),
    passBits: idxBits(P),
    aBits,
    yBits,
    xBits,
    accBits: r.accBits,
    attnShift: r.attnShift,
    satMax,
    satNeeded,
    stateAddrBits: lif ? lif.addrBits : 0,
    stateWordBits: lif ? lif.lanes * lif.wBits : 0,
    lif,
    slots,
    heads,
    memories,
    cycles: 0,
  };
  p.cycles = attentionCycles(p);
  return p;
}

/** Pipeline depth from the last issued step to `done` (see ARCHITECTURE.md "## attention"). */
export const ATTN_DRAIN = { ssa: 5, sdsa: 2 } as const;

/**
 * Cycles of one timestep, from the clock edge that samples `start` to the edge that raises
 * `done` (data independent):
 *   ssa : N (K/V of pass 0) + P*N*N (one key per cycle) + 5
 *   sdsa: N (K/V of pass 0) + P*N   (one query per cycle) + 2
 * The K/V load of pass p+1 is hidden under the last N steps of pass p.
 */
export function attentionCycles(p: Pick<AttentionParams, "mode" | "N" | "passes">): number {
  const steps = p.mode === "ssa" ? p.N * p.N : p.N;
  return p.N + p.passes * steps + ATTN_DRAIN[p.mode];
}

/** Breakdown of attentionCycles, and the total for a whole inference (T timesteps). */
export function attentionCycleModel(p: AttentionParams): { load: number; compute: number; drain: number; perTimestep: number; perInference: number } {
  const compute = p.passes * (p.mode === "ssa" ? p.N * p.N : p.N);
  const perTimestep = attentionCycles(p);
  return { load: p.N, compute, drain: ATTN_DRAIN[p.mode], perTimestep, perInference: p.T * p.lifSets * perTimestep };
}

export function attentionCoreContext(p: AttentionParams) {
  const tree = adderTree(busBits("qk", p.d), "qk_pc");
  if (tree.root.bits !== p.aBits) throw new Error("internal: attentionCore: popcount width mismatch");
  const ssa = p.mode === "ssa";
  return {
    coreModule: p.coreModule,
    ssa,
    N: p.N,
    d: p.d,
    accBits: p.accBits,
    attnShift: p.attnShift,
    satNeeded: p.satNeeded,
    satMax: p.satMax,
    xBits: p.xBits,
    yBits: p.yBits,
    jBits: p.geo.nBits,
    dMsb: p.d - 1,
    nMsb: p.N - 1,
    nLast: p.N - 1,
    jMsb: p.geo.nBits - 1,
    aMsb: p.aBits - 1,
    yMsb: p.yBits - 1,
    xMsb: p.xBits - 1,
    xBusMsb: p.d * p.xBits - 1,
    saMsb: Math.max(p.stateAddrBits, 1) - 1,
    swMsb: Math.max(p.stateWordBits, 1) - 1,
    lifModule: p.lif ? p.lif.module : "",
    popNodes: tree.nodes.map(({ name, msb, a, b }) => ({ name, msb, a, b })),
    popOut: tree.root.expr,
    aExt: zext("a_cnt", p.aBits, p.yBits),
    yshExt: p.satNeeded ? "" : zext("ysh", p.yBits, p.xBits),
  };
}

/** Row address {t, n} of token index `idx` (nBits wide) in the timestep held in `t_r` (just idx when T = 1). */
function rowAddr(p: AttentionParams, idx: string): string {
  return p.geo.tAddrBits > 0 ? `{t_r, ${idx}}` : idx;
}

export function attentionUnitContext(p: AttentionParams) {
  const g = p.geo;
  return {
    unitModule: p.unitModule,
    coreModule: p.coreModule,
    mode: p.mode,
    ssa: p.mode === "ssa",
    N: p.N,
    D: p.D,
    H: p.H,
    d: p.d,
    cores: p.cores,
    passes: p.passes,
    cycles: p.cycles,
    jBits: g.nBits,
    tBits: g.tBits,
    passBits: p.passBits,
    stateAddrBits: p.stateAddrBits,
    nLast: p.N - 1,
    passLast: p.passes - 1,
    dMsb: p.d - 1,
    DMsb: p.D - 1,
    jMsb: g.nBits - 1,
    tMsb: g.tBits - 1,
    rowMsb: g.rowAddrBits - 1,
    passMsb: p.passBits - 1,
    saMsb: Math.max(p.stateAddrBits, 1) - 1,
    swMsb: Math.max(p.stateWordBits, 1) - 1,
    multiSet: p.lifSets > 1,
    hasTRow: g.tAddrBits > 0,
    ldAddr: rowAddr(p, "ld_idx"),
    qAddr: rowAddr(p, "qi"),
    oAddr: rowAddr(p, "o_cnt"),
    ...(p.lifSets > 1 ? { setMsb: p.setBits - 1, setExt: zext("cfg_set", p.setBits, Math.max(p.stateAddrBits, 1)), setStride: p.passes * p.N } : {}),
    memPorts: p.memories.map((m) => ({ prefix: m.prefix, mem: { label: m.mem.label, depth: m.mem.depth, width: m.mem.width } })),
    coreList: p.slots.map((s, c) => ({ c, lo: c * p.d, slots: s })),
    cMsb: p.cores - 1,
    coMsb: p.cores * p.d - 1,
    heads: p.heads.map((h) => ({ lsb: h.lsb, core: h.core, pass: h.pass, coLsb: h.core * p.d })),
  };
}

/** RTL of the unit: unit + core (+ the LIF_attn array for ssa).  Memories are external (p.memories). */
export function renderAttention(r: Resolved, p: AttentionParams): GeneratedFile[] {
  const files: GeneratedFile[] = [
    renderVerilog(r, path.join(here, "attentionUnit.v.hbs"), `${p.unitModule}.v`, `attention unit (${p.mode}, ${p.cores} cores)`, attentionUnitContext(p)),
    renderVerilog(r, path.join(here, "attentionCore.v.hbs"), `${p.coreModule}.v`, `attention core (${p.mode}, one head of ${p.d} channels)`, attentionCoreContext(p)),
  ];
  if (p.lif) files.push(...renderLifArray(r, p.lif));
  return files;
}

/** Behavioral models of the LIF_attn state memories, for standalone tests. */
export function renderAttentionMemModels(r: Resolved, p: AttentionParams): GeneratedFile[] {
  return p.memories.map((m) => ({ ...renderRam1r1w(r, m.mem), kind: "sim" as const }));
}

/** The block (generator/blocks/block.ts): the attention unit with its cores, LIF_attn state on the la<c>_* pins. */
export const attentionCoreBlock: Block<AttentionParams, AttentionOptions | undefined, void, number> = {
  name: "attentionCore",
  golden: "generator/blocks/attentionCore/golden.ts",
  testedBy: ["generator/blocks/attentionCore/attentionCore.test.ts"],
  params: (r, o) => attentionParams(r, o),
  render: renderAttention,
  memories: (p) => p.memories,
  cycles: (p) => attentionCycles(p),
};
