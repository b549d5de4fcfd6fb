/**
 * Templates print; TypeScript decides (README "How a block is laid out").  Two checks over
 * every template of the repository:
 *
 *  - lean contexts: rendering is instrumented (generator/render/render.ts trackContextUse: the
 *    context is wrapped so every Handlebars lookup is recorded); every key a context carries
 *    must be read by its template in at least one of the renders below, which cover every
 *    template, and every branch of it, over a set of configs;
 *  - no arithmetic in a template: outside comments, a number of the context (seen as a number by
 *    the same instrumentation) is never combined by the template with another number
 *    ({{a}}*{{b}}, {{x}}-1, 8'd{{r}}+8'd1) nor made into a literal ({{w}}'d0): the context gives
 *    the result, or the ulit/slit helpers print the literal.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig, parseConfig } from "../generator/config/load.ts";
import { resolve, resolveInput, type Resolved } from "../generator/config/resolve.ts";
import type { UserConfigInput } from "../generator/config/schema.ts";
import { buildDesign } from "../generator/design.ts";
import { REPO_ROOT } from "../generator/core/paths.ts";
import { hbs, renderFile, trackContextUse, unusedKeys, type ContextUse } from "../generator/render/render.ts";
import { lifArrayContext, lifArrayParams } from "../generator/blocks/lifArray/lifArray.ts";
import { renderLifTb } from "../generator/blocks/lifArray/testbench.ts";
import { linearEngineParams } from "../generator/blocks/linearEngine/linearEngine.ts";
import { renderLeTb } from "../generator/blocks/linearEngine/testbench.ts";
import { topkRouterParams } from "../generator/blocks/topkRouter/topkRouter.ts";
import { renderTopkTb } from "../generator/blocks/topkRouter/testbench.ts";
import { logicalMemory } from "../generator/blocks/memory/ram1r1w.ts";
import { renderMemTb } from "../generator/blocks/memory/testbench.ts";
import { attnTbShape, renderAttentionTb } from "../generator/blocks/attentionCore/testbench.ts";
import { dataflowTbShape, renderDataflowTb } from "../generator/blocks/dataflow/testbench.ts";
import { renderEquivTb } from "../generator/partition/testbench.ts";
import { CHIP_PORTS } from "../generator/top/accelerator.ts";
import { weightStreamParams } from "../generator/blocks/weightStream/weightStream.ts";
import { renderOcmCheckTb, renderWsTb } from "../generator/blocks/weightStream/testbench.ts";

const cfg = (name: string, model: UserConfigInput["model"], hardware: UserConfigInput["hardware"] = {}, integration: UserConfigInput["integration"] = { mode: "2d" }): Resolved =>
  resolve(parseConfig({ name, model, hardware, integration }, name));

/** Configs that between them take every branch of every template. */
const CONFIGS: Resolved[] = [
  resolve(loadConfig("tiny")),
  resolve(loadConfig("default")),
  cfg("sdsa", { timesteps: 2, tokens: 3, dim: 10, heads: 2, attention: "sdsa", experts: 3, topK: 2, expertHidden: 7 }, { synapticLanes: 7, tokenGroup: 3 }),
  cfg("ptok", { timesteps: 3, tokens: 5, dim: 12, heads: 4, routing: "per-token", experts: 6, topK: 1, expertHidden: 9, blocks: 2 }, { synapticLanes: 8, tokenGroup: 4, attnCores: 3 }),
  cfg("t1", { timesteps: 1, tokens: 4, dim: 8, heads: 2, experts: 4, topK: 4, expertHidden: 8, blocks: 1 }, { synapticLanes: 8, tokenGroup: 2 }),
  cfg("n1", { timesteps: 2, tokens: 1, dim: 3, heads: 3, experts: 1, topK: 1, expertHidden: 1, blocks: 2, lif: { shortcut: { reset: "subtract", threshold: -5 }, hidden: { decayInput: false } } }, { synapticLanes: 3, tokenGroup: 1, attnCores: 2 }),
  cfg("d1", { timesteps: 2, tokens: 2, dim: 1, heads: 1, experts: 2, topK: 1, expertHidden: 3, accBits: 6, residBits: 7 }, { synapticLanes: 10, macroMinBits: 0 }, { mode: "memory-on-logic" }),
  // the attention core's Y saturates (Y >> attnShift can exceed accBits), a single block
  cfg("sat", { timesteps: 2, tokens: 8, dim: 8, heads: 1, accBits: 5, blocks: 1, experts: 2, topK: 2, expertHidden: 2 }, { synapticLanes: 10, tokenGroup: 5 }),
  // linear sums narrower than accBits (the engines' drain sign-extends), wide umem words
  cfg("wide", { timesteps: 2, tokens: 3, dim: 8, heads: 2, weightBits: 2, biasBits: 2, accBits: 32, residBits: 32, experts: 2, topK: 1, expertHidden: 4 }, { synapticLanes: 4, macroMinBits: 0 }),
  // weights off chip: a half narrower than a bank (the engine's upper address bits unused), and one wider (a large buffer, one expert, 64-bit beats)
  cfg("ws", { timesteps: 2, tokens: 4, dim: 8, heads: 2, blocks: 2, experts: 4, topK: 2, expertHidden: 8 }, { synapticLanes: 8, tokenGroup: 4, weightsOnChip: false }, { mode: "memory-on-logic" }),
  cfg("wsbig", { timesteps: 2, tokens: 1, dim: 3, heads: 3, experts: 1, topK: 1, expertHidden: 1, blocks: 2 }, { synapticLanes: 3, tokenGroup: 1, weightsOnChip: false, weightBuffer: 100000, offchipBeatBits: 64 }),
];

/** Render every template (designs and testbenches) under the tracker. */
function renderAll(): Map<string, ContextUse> {
  return trackContextUse(() => {
    for (const r of CONFIGS) buildDesign(r);
    const r = CONFIGS[0];
    // LIF arrays: every option, with and without valid bits
    const lif = (o: Partial<Resolved["lif"]["shortcut"]>) => ({ ...r.lif.shortcut, ...o });
    renderLifTb(r, "x_lif_tb", [
      { p: lifArrayParams(r, lif({}), "a", 8, 4), label: "a", T: 2 },
      { p: lifArrayParams(r, lif({ reset: "subtract", threshold: -3, decayInput: false, fire: ">" }), "b", 5, 2, true), label: "b", T: 2 },
    ]);
    // linear engines: saturating and sign-extending drains, G = 1
    const rw = CONFIGS[8];
    renderLeTb(r, "x_le_tb", [
      { p: linearEngineParams(r, "s", { inMax: 6, tilesMax: 2, tagBits: 3, wDepth: 12, bDepth: 2, lanes: 2, group: 3 }), label: "s", maxLayers: 2, maxRows: 8 },
      { p: linearEngineParams(rw, "w", { inMax: 4, tilesMax: 2, tagBits: 2, wDepth: 8, bDepth: 2, lanes: 3, group: 1 }), label: "w", maxLayers: 2, maxRows: 8 },
    ]);
    // top-k: all, nor and count modes, exhaustive and random stimulus
    const tk = (E: number, k: number, kind: "exhaustive" | "random") => {
      const rr = resolveInput({ name: `tk${E}${k}`, model: { experts: E, topK: k } });
      return { r: rr, p: topkRouterParams(rr, { zBits: 3, tagBits: 4, tag: `e${E}k${k}` }), label: `e${E}k${k}`, kind, vectors: 10 };
    };
    renderTopkTb("x_tk_tb", [tk(3, 3, "exhaustive"), tk(3, 1, "random"), tk(4, 2, "exhaustive")]);
    // memories: flops, macros with banks and columns, preloaded, single-port
    renderMemTb(r, "x_mem_tb", [
      { mem: logicalMemory("x_mem_f", "flops", 8, 5), ops: 10 },
      { mem: logicalMemory("x_mem_m", "macros", 2080, 100, { preload: "x.hex", ports: "1rw" }), ops: 10 },
    ]);
    // attention: ssa with two LIF sets, sdsa
    renderAttentionTb("x_att_tb", [attnTbShape(CONFIGS[0], { lifSets: 2 }), attnTbShape(CONFIGS[2])]);
    renderDataflowTb("x_df_tb", [dataflowTbShape(CONFIGS[0]), dataflowTbShape(CONFIGS[3])]);
    renderEquivTb("x_eq_tb", CHIP_PORTS, "x_top", ["x_3d"], 100);
    // weight streams: one beat per word (narrower than and equal to the beat), several beats
    // (a partial and a full last beat), byte-wide beats
    const ws = (tag: string, wordBits: number, beatBits: number) => ({ p: weightStreamParams(r, { maxLayerWords: 5, wordBits, beatBits, tag }), label: tag, maxLayers: 2, maxReads: 4, imageBeats: 64 });
    renderWsTb(r, "x_ws_tb", [ws("a", 12, 16), ws("b", 16, 16), ws("c", 33, 16), ws("d", 32, 16), ws("e", 20, 8)]);
    renderOcmCheckTb("x_ocm_tb", { beatBits: 32, addrBits: 16, depthBeats: 8, maxBursts: 2, maxBeats: 4 });
  }).uses;
}

const uses = renderAll();

describe("template contexts", () => {

  it("every template of the repository was rendered", () => {
    const all: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.name === "node_modules" || e.name.startsWith(".") || e.name === "build" || e.name === "rtl-out") continue;
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".hbs")) all.push(path.relative(REPO_ROOT, p));
      }
    };
    walk(path.join(REPO_ROOT, "generator"));
    expect(all.length).toBeGreaterThan(20);
    expect(all.filter((t) => !uses.has(t))).toEqual([]);
  });

  it("carry no key their template never reads", () => {
    const unused = [...uses].flatMap(([t, u]) => unusedKeys(u).map((k) => `${t}: ${k}`));
    expect(unused, `context keys no template render read (remove them from the context function):\n${unused.join("\n")}`).toEqual([]);
  });

  it("the check fails on a key the template does not use (negative control)", () => {
    const r = CONFIGS[0];
    const p = lifArrayParams(r, r.lif.qkv, "neg", 8, 4);
    const tpl = path.join(REPO_ROOT, "generator/blocks/lifArray/lifArray.v.hbs");
    const { uses: clean } = trackContextUse(() => renderFile(tpl, lifArrayContext(p)));
    const ctx = lifArrayContext(p);
    const { uses: extra } = trackContextUse(() => renderFile(tpl, { ...ctx, leftover: 7, nested: { used: 1 }, overrides: { ...ctx.overrides, extra: 1 } }));
    const key = "generator/blocks/lifArray/lifArray.v.hbs";
    // the context alone is lean except for keys used in other branches (valid bits, soft reset)
    const base = new Set(unusedKeys(clean.get(key)!));
    expect(unusedKeys(extra.get(key)!).filter((k) => !base.has(k))).toEqual(["leftover", "nested", "overrides.extra"]);
  });
});

// ------------------------------------------------------------------ arithmetic

type Tok = { text: string } | { key: string } | { barrier: true };

/**
 * The template as one sequence, in document order, of text, printed context keys (each key
 * resolved through the {{#each}} scopes to its path in the context, "list[].field") and
 * barriers (block tags and helper output, which end an expression).
 */
function tokens(tpl: string): Tok[] {
  const seq: Tok[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const walk = (prog: any, scopes: string[]) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const keyOf = (pe: any): string | undefined => {
      if (!pe || pe.type !== "PathExpression" || pe.data) return undefined;
      const base = scopes[Math.max(0, scopes.length - 1 - pe.depth)];
      const rest = pe.parts.join(".");
      return base && rest ? `${base}.${rest}` : base || rest;
    };
    for (const st of prog.body) {
      if (st.type === "ContentStatement") seq.push({ text: st.value });
      else if (st.type === "MustacheStatement") {
        const k = st.params.length ? undefined : keyOf(st.path);
        seq.push(k ? { key: k } : { barrier: true });
      } else if (st.type === "BlockStatement") {
        seq.push({ barrier: true });
        const inner = st.path.original === "each" ? [...scopes, `${keyOf(st.params[0])}[]`] : scopes;
        if (st.program) walk(st.program, inner);
        seq.push({ barrier: true });
        if (st.inverse) walk(st.inverse, scopes);
        seq.push({ barrier: true });
      }
    }
  };
  walk(hbs.parse(tpl), [""]);
  return seq;
}

/** Places where a template computes with numbers of its context (outside // comments). */
function arithmeticIn(tpl: string, numbers: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const seq = tokens(tpl);
  const text = (t: Tok | undefined) => (t && "text" in t ? t.text : "");
  const num = (t: Tok | undefined): t is { key: string } => !!t && "key" in t && numbers.has(t.key);
  let line = ""; // output text of the current line so far (to skip // comments)
  seq.forEach((t, i) => {
    if ("text" in t) {
      line = t.text.includes("\n") ? t.text.slice(t.text.lastIndexOf("\n") + 1) : line + t.text;
      return;
    }
    if (!num(t) || line.includes("//")) return;
    const prev = text(seq[i - 1]);
    const next = text(seq[i + 1]);
    // a factor of a product with a Verilog variable (t * {{stride}} + ...) is an expression, not the template's arithmetic
    if (/[A-Za-z_]\w*\s*[*/]\s*$/.test(prev)) return;
    if (/^\s*[-+*/%]\s*$/.test(next) && num(seq[i + 2])) out.push(`{{${t.key}}}${next}{{${(seq[i + 2] as { key: string }).key}}}`);
    else if (/^\s*[-+*/%]\s*\d+(?![\w'])/.test(next)) out.push(`{{${t.key}}}${next.match(/^\s*[-+*/%]\s*\d+/)![0]}`);
    else if (/(?<![\w'])\d+\s*[-+*/%]\s*$/.test(prev)) out.push(`${prev.match(/\d+\s*[-+*/%]\s*$/)![0]}{{${t.key}}}`);
    else if (/^'s?[dhb]/.test(next)) out.push(`{{${t.key}}}${next.slice(0, 3)} (a literal built by the template)`);
    else if (/\d'[dh]$/.test(prev) && /^\s*[-+]/.test(next)) out.push(`${prev.slice(-3)}{{${t.key}}}${next.slice(0, 6)}`);
  });
  return out;
}

describe("templates print, they do not compute", () => {
  it("no template computes with numbers of its context (outside comments)", () => {
    const found = [...uses].flatMap(([t, u]) => arithmeticIn(fs.readFileSync(path.join(REPO_ROOT, t), "utf8"), u.numbers).map((x) => `${t}: ${x}`));
    expect(found, found.join("\n")).toEqual([]);
  });

  it("the check finds what it is meant to find (negative control)", () => {
    const n = new Set(["group", "laneSumBits", "reg.CYCLES", "rows", "lanes[].l", "accBits"]);
    expect(arithmeticIn("wire [{{group}}*{{laneSumBits}}-1:0] acc_all;", n).length).toBeGreaterThan(0);
    expect(arithmeticIn("8'd{{reg.CYCLES}}+8'd1: x", n)).toHaveLength(1);
    expect(arithmeticIn("x <= {{rows}}'d0;", n)).toHaveLength(1);
    expect(arithmeticIn("{{#each lanes}}y[{{l}}*{{../accBits}} +: {{../accBits}}]{{/each}}", n)).toHaveLength(1);
    expect(arithmeticIn("wire [{{rows}}-1:0] x;", n)).toHaveLength(1);
    // Verilog expressions of signals, indices of loop variables and comments are fine
    expect(arithmeticIn("wire w = {{a}} + {{b}}; assign b = y[l*{{accBits}} +: {{accBits}}]; // {{group}}*{{rows}}", n)).toEqual([]);
  });
});
