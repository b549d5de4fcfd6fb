/**
 * topkRouter — top-k selection of E signed scores by all-pairs rank counting, one
 * combinational stage and one register (latency 1, one selection per cycle, no
 * backpressure).  Parameters, derivation and rendering of the block.
 * Golden model: ./golden.ts (`topk`, `selMask`; `rankSelect` is the algorithm the RTL uses).
 * Testbench: ./topkRouter_tb.v.hbs + ./testbench.ts.  Tests: ./topkRouter.test.ts.
 *
 * Expert e is selected iff fewer than k experts beat it, where j beats e iff
 * z_j > z_e or (z_j == z_e and j < e).  For every pair i < j ONE signed comparator
 * c_ij = (z_i >= z_j) decides both directions: c_ij = 1 means i beats j, c_ij = 0
 * means j beats i.  So E(E-1)/2 comparators; every expert then counts its E-1
 * "beaten by" bits with a balanced adder tree (built in TypeScript: util/adderTree.ts) and compares
 * the count with the constant k.  Special cases: k = 1 needs no adders (selected iff no
 * one beats e: an (E-1)-input NOR); k = E selects everyone (no comparators at all).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { renderVerilog } from "../../render/render.ts";
import { adderTree, busBits, type AdderTreeNode } from "../../util/adderTree.ts";
import type { Block } from "../block.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** How the selection is formed from the pairwise comparisons. */
export type TopkMode =
  /** k = E: every expert selected, no comparator */
  | "all"
  /** k = 1: selected iff beaten by no one (NOR of E-1 bits) */
  | "nor"
  /** 1 < k < E: popcount of E-1 bits (adder tree) < k */
  | "count";

export interface TopkRouterParams {
  module: string;
  /** experts E (scores in, mask bits out) */
  E: number;
  /** experts selected, 1..E (printed as a constant) */
  k: number;
  /** signed width of one score (ZW): accBits for per-step routing, routerSumBits for per-token */
  zBits: number;
  /** width of the opaque tag carried from in_tag to out_tag */
  tagBits: number;
  mode: TopkMode;
  /** signed comparators: E(E-1)/2, or 0 when k = E */
  comparators: number;
  /** adders per expert in the popcount tree (0 unless mode = "count") */
  addersPerExpert: number;
  /** adder levels of the popcount tree (0 unless mode = "count") */
  treeLevels: number;
  /** popcount tree of one expert's "beaten by" bits (bus `bt`), in declaration order (empty unless mode = "count") */
  tree: AdderTreeNode[];
  /** name and width of the tree's root (the count of experts beating e) */
  countName: string;
  countBits: number;
  /** cycles from in_valid to out_valid */
  latency: 1;
}

export interface TopkRouterOptions {
  /** ZW: signed score width */
  zBits: number;
  /** width of in_tag/out_tag (>= 1) */
  tagBits: number;
  /** module-name suffix, unique within the design (e.g. "b0", "step", "token") */
  tag?: string;
}

/**
 * Derive the parameters of one top-k router.  E and k come from the resolved config;
 * the score width is a parameter so that the same block serves per-step routing
 * (zBits = r.accBits) and per-token routing (zBits = r.routerSumBits).
 */
export function topkRouterParams(r: Resolved, o: TopkRouterOptions): TopkRouterParams {
  const E = r.E;
  const k = r.k;
  // model.topK <= model.experts is a rule of the config (generator/config/validate.ts); this guards hand-built configs
  if (!(Number.isInteger(E) && E >= 1 && Number.isInteger(k) && k >= 1 && k <= E)) throw new Error(`internal: topkRouter: topK = ${k} outside 1..${E}`);
  if (!Number.isInteger(o.zBits) || o.zBits < 1 || o.zBits > 48) throw new Error(`topkRouter: zBits = ${o.zBits} must be in 1..48`);
  if (!Number.isInteger(o.tagBits) || o.tagBits < 1) throw new Error(`topkRouter: tagBits = ${o.tagBits} must be >= 1`);
  if (o.tag !== undefined && !/^[A-Za-z0-9_]+$/.test(o.tag)) throw new Error(`topkRouter: tag '${o.tag}' must be a Verilog identifier suffix`);
  const mode: TopkMode = k === E ? "all" : k === 1 ? "nor" : "count";
  const t = mode === "count" ? adderTree(busBits("bt", E - 1), "pc") : undefined;
  if (t && k > t.root.cap) throw new Error(`topkRouter: internal: k = ${k} exceeds the count range ${t.root.cap}`);
  return {
    module: o.tag ? `${r.name}_topkRouter_${o.tag}` : `${r.name}_topkRouter`,
    E,
    k,
    zBits: o.zBits,
    tagBits: o.tagBits,
    mode,
    comparators: mode === "all" ? 0 : (E * (E - 1)) / 2,
    addersPerExpert: t ? t.nodes.length : 0,
    treeLevels: t ? t.levels : 0,
    tree: t ? t.nodes : [],
    countName: t ? t.root.expr : "",
    countBits: t ? t.root.bits : 0,
    latency: 1,
  };
}

/** Names in the generated RTL: score of expert e, comparator of pair i < j (1: i beats j). */
const zName = (e: number) => `z${e}`;
const cName = (i: number, j: number) => `c${i}_${j}`;

/**
 * The "beaten by" bits of expert e as one Verilog concatenation, slot E-2 first:
 * slot s < e is expert s (beats e iff c_s_e = 1), slot s >= e is expert s+1 (beats e iff c_e_(s+1) = 0).
 */
function beatenBy(e: number, E: number): string {
  const slots: string[] = [];
  for (let s = 0; s < E - 1; s++) slots.push(s < e ? cName(s, e) : `~${cName(e, s + 1)}`);
  return slots.length === 1 ? slots[0] : `{${slots.reverse().join(", ")}}`;
}

/**
 * Template context.  The network is printed fully unrolled (one wire per score, per
 * comparator, per adder) rather than with generate loops over a shared bit vector: the
 * hardware is the same, but Icarus then evaluates each comparator once per new input
 * instead of re-propagating a wide vector per changed bit (about 30x faster simulation).
 */
export function topkRouterContext(p: TopkRouterParams) {
  const active = p.mode !== "all";
  const pairs: { c: string; zi: string; zj: string }[] = [];
  if (active) for (let i = 0; i < p.E; i++) for (let j = i + 1; j < p.E; j++) pairs.push({ c: cName(i, j), zi: zName(i), zj: zName(j) });
  const wires = (t: AdderTreeNode[]) => t.map(({ name, msb, a, b }) => ({ name, msb, a, b }));
  return {
    module: p.module,
    E: p.E,
    k: p.k,
    zBits: p.zBits,
    comparators: p.comparators,
    addersPerExpert: p.addersPerExpert,
    treeLevels: p.treeLevels,
    countBits: p.countBits,
    isAll: p.mode === "all",
    isNor: p.mode === "nor",
    Em1: p.E - 1,
    eMsb: p.E - 1,
    beatMsb: p.E - 2,
    zMsb: p.zBits - 1,
    tagMsb: p.tagBits - 1,
    scoresMsb: p.E * p.zBits - 1,
    scores: active ? [...Array(p.E).keys()].map((e) => ({ name: zName(e), lsb: e * p.zBits })) : [],
    pairs,
    experts: active
      ? [...Array(p.E).keys()].map((e) => {
          const t = p.mode === "count" ? adderTree(busBits(`bt${e}`, p.E - 1), `e${e}_pc`) : undefined;
          return {
            e,
            bt: `bt${e}`,
            beatenBy: beatenBy(e, p.E),
            tree: t ? wires(t.nodes) : [],
            count: t ? t.root.expr : "",
          };
        })
      : [],
  };
}

/** The router module (one file; no memory). */
export function renderTopkRouter(r: Resolved, p: TopkRouterParams): GeneratedFile[] {
  return [renderVerilog(r, path.join(here, "topkRouter.v.hbs"), `${p.module}.v`, `top-${p.k} of ${p.E} router (${p.zBits}-bit scores)`, topkRouterContext(p))];
}

/** The block (generator/blocks/block.ts): no memory; latency 1, one selection per cycle. */
export const topkRouterBlock: Block<TopkRouterParams, TopkRouterOptions> = {
  name: "topkRouter",
  golden: "generator/blocks/topkRouter/golden.ts",
  testedBy: ["generator/blocks/topkRouter/topkRouter.test.ts"],
  params: topkRouterParams,
  render: renderTopkRouter,
  memories: () => [],
};
