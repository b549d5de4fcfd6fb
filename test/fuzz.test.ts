/**
 * Property-based tests of the config layer and the generator, derived from the zod schema
 * (generator/config/schema.ts).  The property: **validate accepts => generate succeeds**;
 * whatever validation refuses is a ConfigError naming the field, never another exception.
 *
 *  (a) random VALID configs (small shapes, every LIF option and width varied over what the
 *      schema accepts, hardware and integration varied) -> parseConfig (= st3d validate) ->
 *      buildDesign -> files in a temp folder -> `verilator --lint-only -Wall` over the
 *      design's own filelists/sim.f for every top: zero warnings, no exception; and the same
 *      list elaborates in Icarus (`iverilog -g2005`) for every top.
 *  (b) random LARGE shapes over the whole schema range (tokens, timesteps, dim, expertHidden,
 *      experts, blocks, lanes up to their maxima; the config of issue #11 included):
 *      parseConfig either accepts, and then buildDesign must succeed (generation only: no lint
 *      or simulation, to keep CI time in check), or refuses with a ConfigError naming a field
 *      and saying what would be valid.  0 internal errors.
 *  (c) random INVALID configs (mutations of valid ones) -> parseConfig must throw a ConfigError
 *      whose message names the offending field path; never another exception.
 *
 * CI runs a sample (ST3D_FUZZ_CONFIGS, default 8 valid configs; ST3D_FUZZ_LARGE, default 10
 * large shapes; 40x as many invalid ones).
 * A longer run:    ST3D_FUZZ_CONFIGS=200 ST3D_FUZZ_LARGE=100 npx vitest run test/fuzz.test.ts
 * Another sample:  ST3D_FUZZ_SEED=1234 ST3D_FUZZ_CONFIGS=50 npx vitest run test/fuzz.test.ts
 * (ST3D_FUZZ_SEED=random picks a fresh seed; the seed is printed with the counts.)
 * A failing config is printed in full (JSON), so it can be replayed with `st3d generate`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, keyLabel, parseConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { VERILOG_KEYWORDS } from "../generator/config/schema.ts";
import { buildDesign } from "../generator/design.ts";
import { buildAccelerator } from "../generator/top/accelerator.ts";
import { needsAreas } from "../generator/partition/views.ts";
import type { AreaEstimate } from "../generator/partition/areas.ts";
import { readFilelist } from "../generator/package/package.ts";
import { verilatorLint } from "../generator/toolchain/verilator.ts";
import { icarusBuild } from "../generator/toolchain/icarus.ts";

const COUNT = Number(process.env.ST3D_FUZZ_CONFIGS ?? 8);
const LARGE = Number(process.env.ST3D_FUZZ_LARGE ?? 10);
const SEED = process.env.ST3D_FUZZ_SEED === "random" ? Date.now() % 2 ** 31 : Number(process.env.ST3D_FUZZ_SEED ?? 20240611);
const INVALID_COUNT = Math.max(300, 40 * COUNT);
if (!Number.isInteger(COUNT) || COUNT < 0) throw new Error(`ST3D_FUZZ_CONFIGS must be a non-negative integer, got ${process.env.ST3D_FUZZ_CONFIGS}`);
if (!Number.isInteger(LARGE) || LARGE < 0) throw new Error(`ST3D_FUZZ_LARGE must be a non-negative integer, got ${process.env.ST3D_FUZZ_LARGE}`);
if (!Number.isInteger(SEED)) throw new Error(`ST3D_FUZZ_SEED must be an integer or 'random', got ${process.env.ST3D_FUZZ_SEED}`);

type Obj = Record<string, unknown>;
const FAMILIES = ["shortcut", "qkv", "attn", "hidden"] as const;

// ------------------------------------------------------------------ valid configs

/** A design name: a Verilog identifier of 1..32 characters that is not a keyword. */
const nameArb = fc
  .oneof(
    { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,31}$/) },
    { weight: 1, arbitrary: fc.constantFrom("x", "X", "st3d", "top", "Module", "a_b_c", "n".repeat(32), "t0", "s_1", "wire_x", "inputs") },
  )
  .filter((s) => !VERILOG_KEYWORDS.has(s) && !/^fakeram/i.test(s) && !/__/.test(s) && !s.endsWith("_"));

/** One LIF family; the threshold always fits stateBits (chained on it). */
const lifArb = fc.integer({ min: 2, max: 32 }).chain((stateBits) =>
  fc.record({
    stateBits: fc.constant(stateBits),
    threshold: fc.integer({ min: -(2 ** (stateBits - 1)), max: 2 ** (stateBits - 1) - 1 }),
    tauShift: fc.integer({ min: 0, max: 15 }),
    decayInput: fc.boolean(),
    fire: fc.constantFrom(">=", ">"),
    reset: fc.constantFrom("zero", "subtract"),
  }),
);

const modelArb = fc
  .record({
    heads: fc.integer({ min: 1, max: 16 }),
    experts: fc.integer({ min: 1, max: 6 }),
  })
  .chain(({ heads, experts }) =>
    fc.record({
      timesteps: fc.integer({ min: 1, max: 4 }),
      tokens: fc.integer({ min: 1, max: 4 }),
      dim: fc.integer({ min: 1, max: Math.floor(16 / heads) }).map((d) => d * heads),
      heads: fc.constant(heads),
      blocks: fc.integer({ min: 1, max: 2 }),
      attention: fc.constantFrom("ssa", "sdsa"),
      experts: fc.constant(experts),
      topK: fc.integer({ min: 1, max: experts }),
      expertHidden: fc.integer({ min: 1, max: 12 }),
      routing: fc.constantFrom("per-step", "per-token"),
      weightBits: fc.integer({ min: 2, max: 16 }),
      biasBits: fc.integer({ min: 2, max: 24 }),
      accBits: fc.integer({ min: 2, max: 32 }),
      residBits: fc.integer({ min: 2, max: 32 }),
      attnShift: fc.integer({ min: 0, max: 31 }),
      lif: fc.record({ shortcut: lifArb, qkv: lifArb, attn: lifArb, hidden: lifArb }, { requiredKeys: [] }),
    }),
  );

const configArb = modelArb.chain((model) =>
  fc
    .record(
    {
      name: nameArb,
      model: fc.constant(model),
      hardware: fc.record(
        {
          synapticLanes: fc.integer({ min: 2, max: 40 }),
          tokenGroup: fc.integer({ min: 1, max: 20 }),
          lifLanes: fc.integer({ min: 1, max: 20 }),
          attnCores: fc.integer({ min: 1, max: model.heads }),
          macroMinBits: fc.oneof(fc.constantFrom(0, 1, 64, 4096, 1 << 24), fc.integer({ min: 0, max: 1 << 16 })),
          clockMHz: fc.double({ min: 1, max: 5000, noNaN: true }),
        },
        { requiredKeys: [] },
      ),
      integration: fc.record(
        {
          // logic-on-logic and auto partition by area: this property is about the RTL, so they get
          // unit areas (real areas need every module mapped onto the library, minutes per design)
          mode: fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom("2d", "memory-on-logic") },
            { weight: 1, arbitrary: fc.constantFrom("logic-on-logic", "auto") },
          ),
          bondPitchUm: fc.double({ min: 0.1, max: 100, noNaN: true }),
          bondUsableFraction: fc.double({ min: 0.01, max: 1, noNaN: true }),
          f2fRegisters: fc.boolean(),
          balance: fc.double({ min: 0.01, max: 1, noNaN: true }),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ["model"] },
  )
    // F2F registers are 2D-only (resolve refuses them with a 3D mode: the tiers would not be cycle-equivalent)
    .map((c) => {
      const i = c.integration as Obj | undefined;
      if (i?.f2fRegisters && i.mode !== "2d") i.f2fRegisters = false;
      return c;
    }),
);

/** 1 µm² per instance: partitions every mode without synthesis (the fuzz property checks the RTL, not the areas). */
function unitAreas(r: ReturnType<typeof resolve>): AreaEstimate {
  const nl = buildAccelerator(r).netlist;
  const detail = nl.instances.map((i) => ({ inst: i.name, module: i.module, kind: i.kind, areaUm2: 1, stdCellUm2: 1, macroUm2: 0, cells: 1, flops: 0, macros: {}, source: "fuzz: unit area" }));
  return { um2: new Map(detail.map((d) => [d.inst, 1])), detail, totalUm2: detail.length, library: "none", source: "fuzz: unit area" };
}

const stats = {
  valid: 0,
  lintTops: 0,
  lintWarnings: 0,
  icarusErrors: 0,
  validCrashes: 0,
  large: 0,
  largeAccepted: 0,
  largeRefused: 0,
  largeInternal: 0,
  largeMaxMs: 0,
  invalid: 0,
  invalidCrashes: 0,
  invalidUnnamed: 0,
  invalidAccepted: 0,
};

afterAll(() => {
  console.log(
    `fuzz (seed ${SEED}): ${stats.valid} valid configs generated and linted (${stats.lintTops} tops), ${stats.lintWarnings} lint warnings, ${stats.icarusErrors} Icarus errors, ${stats.validCrashes} crashes; ` +
      `${stats.large} large shapes: ${stats.largeAccepted} validated and generated (slowest ${(stats.largeMaxMs / 1000).toFixed(1)} s), ${stats.largeRefused} refused with a named field, ${stats.largeInternal} internal errors; ` +
      `${stats.invalid} invalid configs, ${stats.invalidCrashes} non-ConfigError exceptions, ${stats.invalidUnnamed} messages without the field path, ${stats.invalidAccepted} accepted`,
  );
});

describe("fuzz: random valid configs generate lint-clean RTL", () => {
  it(`${COUNT} configs (seed ${SEED})`, async () => {
    const samples = COUNT ? fc.sample(configArb, { numRuns: COUNT, seed: SEED }) : [];
    const failures: string[] = [];
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-fuzz-"));
    for (const [i, cfg] of samples.entries()) {
      stats.valid++;
      const show = JSON.stringify(cfg);
      try {
        const r = resolve(parseConfig(cfg, `fuzz #${i}`));
        const d = buildDesign(r, needsAreas(r.integration.mode, false) ? { areas: unitAreas(r) } : {});
        const dir = path.join(root, `c${i}`);
        for (const f of d.files) {
          fs.mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
          fs.writeFileSync(path.join(dir, f.path), f.content);
        }
        const simList = readFilelist(fs.readFileSync(path.join(dir, "filelists", "sim.f"), "utf8"));
        for (const top of d.tops) {
          const res = await verilatorLint(
            simList.map((p) => path.join(dir, p)),
            top,
          );
          stats.lintTops++;
          if (!res.ok) {
            stats.lintWarnings += Math.max(1, res.warnings.length);
            failures.push(`lint ${top}: ${res.warnings.slice(0, 6).join("\n    ") || res.output.slice(0, 800)}\n  config: ${show}`);
            console.log(`FUZZ FAILURE #${i}: ${failures[failures.length - 1]}`); // as found, so a long run that is interrupted still reports
          }
          // Icarus in Verilog-2005 mode elaborates the same list: catches what Verilator accepts but the
          // standard does not (a part-select of a concatenation once slipped through lint, failing Yosys)
          try {
            await icarusBuild(
              simList.map((p) => path.join(dir, p)),
              top,
              path.join(dir, `icarus-${top}`),
            );
          } catch (e) {
            stats.icarusErrors++;
            failures.push(`iverilog -g2005 ${top}: ${(e as Error).message.split("\n").filter((l) => /error/i.test(l)).slice(0, 6).join("\n    ")}\n  config: ${show}`);
            console.log(`FUZZ FAILURE #${i}: ${failures[failures.length - 1]}`);
          }
        }
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (e) {
        stats.validCrashes++;
        failures.push(`crash: ${(e as Error).stack?.split("\n").slice(0, 4).join(" | ")}\n  config: ${show}`);
        console.log(`FUZZ FAILURE #${i}: ${failures[failures.length - 1]}`);
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
    expect(failures, failures.join("\n\n")).toEqual([]);
  }, 120_000 + COUNT * 60_000);
});

// ------------------------------------------------------------------ large shapes

/** An integer in lo..hi, log-uniform (large shapes are as likely as small ones), ends included often. */
const logInt = (lo: number, hi: number) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(lo, hi) },
    { weight: 4, arbitrary: fc.double({ min: Math.log(lo), max: Math.log(hi + 1), noNaN: true }).map((x) => Math.min(hi, Math.max(lo, Math.floor(Math.exp(x))))) },
  );

/** Shapes over the whole schema range; hardware and widths partly drawn too. */
const largeArb = fc
  .record({ heads: logInt(1, 256), experts: logInt(1, 64), mult: logInt(1, 4096) })
  .chain(({ heads, experts, mult }) =>
    fc.record({
      name: fc.constant("big"),
      model: fc.record(
        {
          timesteps: logInt(1, 64),
          tokens: logInt(1, 4096),
          dim: fc.constant(heads * Math.max(1, Math.min(mult, Math.floor(4096 / heads)))),
          heads: fc.constant(heads),
          blocks: logInt(1, 64),
          attention: fc.constantFrom("ssa", "sdsa"),
          experts: fc.constant(experts),
          topK: fc.integer({ min: 1, max: experts }),
          expertHidden: logInt(1, 16384),
          routing: fc.constantFrom("per-step", "per-token"),
          weightBits: fc.integer({ min: 2, max: 16 }),
          accBits: fc.integer({ min: 2, max: 32 }),
          residBits: fc.integer({ min: 2, max: 32 }),
        },
        { requiredKeys: ["dim", "heads", "experts", "topK"] },
      ),
      hardware: fc.record(
        {
          synapticLanes: logInt(2, 512),
          tokenGroup: logInt(1, 256),
          attnCores: fc.integer({ min: 1, max: heads }),
          macroMinBits: fc.constantFrom(0, 4096, 1 << 24),
        },
        { requiredKeys: [] },
      ),
      // memory-on-logic partitions without synthesis; the Yosys-based modes are left to (a)
      integration: fc.record({ mode: fc.constantFrom("2d", "memory-on-logic") }),
    }),
  );

/** The config of issue #11 (it used to pass validate and crash generate) and other corners of the range. */
const LARGE_FIXED: Obj[] = [
  { model: { timesteps: 64, tokens: 4096, dim: 4096, heads: 16 } },
  { model: { timesteps: 64, tokens: 4096, dim: 16, heads: 1, expertHidden: 16 } },
  { model: { timesteps: 1, tokens: 4096, dim: 1, heads: 1, experts: 64, topK: 2, expertHidden: 16384 } },
  { model: { timesteps: 16, tokens: 4096, dim: 8, heads: 8, experts: 2, topK: 1, expertHidden: 8 }, hardware: { synapticLanes: 12 } },
];

describe("fuzz: validate accepts => generate succeeds, over large shapes", () => {
  it(`${LARGE_FIXED.length} fixed + ${LARGE} random large shapes (seed ${SEED})`, () => {
    const samples = [...LARGE_FIXED, ...(LARGE ? fc.sample(largeArb, { numRuns: LARGE, seed: SEED }) : [])];
    const failures: string[] = [];
    for (const [i, cfg] of samples.entries()) {
      stats.large++;
      const show = JSON.stringify(cfg);
      let r;
      try {
        r = resolve(parseConfig(cfg, `large #${i}`));
      } catch (e) {
        if (e instanceof ConfigError && e.issues.length > 0 && e.issues.every((p) => p.field && p.valid)) {
          stats.largeRefused++;
          continue;
        }
        stats.largeInternal++;
        failures.push(`validation threw ${(e as Error)?.name}: ${(e as Error)?.message?.slice(0, 400)}\n  config: ${show}`);
        continue;
      }
      const t0 = Date.now();
      try {
        const d = buildDesign(r, needsAreas(r.integration.mode, false) ? { areas: unitAreas(r) } : {});
        if (!d.files.some((f) => f.path === `${r.name}_top.v`)) throw new Error("no top file");
        stats.largeAccepted++;
        stats.largeMaxMs = Math.max(stats.largeMaxMs, Date.now() - t0);
        if (process.env.ST3D_FUZZ_VERBOSE) console.log(`large #${i}: ${Date.now() - t0} ms, ${d.files.length} files, ${(d.files.reduce((a, f) => a + f.content.length, 0) / 1e6).toFixed(1)} MB: ${show}`);
      } catch (e) {
        stats.largeInternal++;
        failures.push(`validated, then generation threw: ${(e as Error).stack?.split("\n").slice(0, 4).join(" | ")}\n  config: ${show}`);
        console.log(`FUZZ FAILURE (large #${i}): ${failures[failures.length - 1]}`);
      }
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
    // the issue's config is refused at validation, naming a field and what would be valid
    expect(() => parseConfig(LARGE_FIXED[0], "issue-11.json")).toThrow(/invalid config issue-11\.json:[\s\S]*model\.tokens: too large: .*\(got 4096\); valid: model\.tokens <= \d+/);
  }, 60_000 + LARGE * 60_000);
});

// ------------------------------------------------------------------ invalid configs

interface Mutation {
  /** field path that the error message must name ("" = the top level) */
  field: string;
  apply: (c: Obj) => unknown;
  what: string;
}

const clone = <T>(x: T): T => structuredClone(x);

/** Set obj[path] = value, creating objects on the way (an own property even for "__proto__"). */
function setAt(root: Obj, p: string[], value: unknown): Obj {
  let cur = root;
  for (const k of p.slice(0, -1)) {
    if (!Object.prototype.hasOwnProperty.call(cur, k) || cur[k] === null || typeof cur[k] !== "object") Object.defineProperty(cur, k, { value: {}, enumerable: true, writable: true, configurable: true });
    cur = cur[k] as Obj;
  }
  Object.defineProperty(cur, p[p.length - 1], { value, enumerable: true, writable: true, configurable: true });
  return root;
}

/** Every leaf of the schema with the values it refuses. */
interface Leaf {
  path: string[];
  kind: "int" | "num" | "enum" | "bool" | "name";
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  options?: string[];
}

const intLeaf = (p: string, min: number, max: number): Leaf => ({ path: p.split("."), kind: "int", min, max });
const LEAVES: Leaf[] = [
  { path: ["name"], kind: "name" },
  intLeaf("model.timesteps", 1, 64),
  intLeaf("model.tokens", 1, 4096),
  intLeaf("model.dim", 1, 4096),
  intLeaf("model.heads", 1, 256),
  intLeaf("model.blocks", 1, 64),
  { path: ["model", "attention"], kind: "enum", options: ["ssa", "sdsa"] },
  intLeaf("model.experts", 1, 64),
  intLeaf("model.topK", 1, 64),
  intLeaf("model.expertHidden", 1, 16384),
  { path: ["model", "routing"], kind: "enum", options: ["per-step", "per-token"] },
  intLeaf("model.weightBits", 2, 16),
  intLeaf("model.biasBits", 2, 24),
  intLeaf("model.accBits", 2, 32),
  intLeaf("model.residBits", 2, 32),
  intLeaf("model.attnShift", 0, 31),
  ...FAMILIES.flatMap((f): Leaf[] => [
    intLeaf(`model.lif.${f}.threshold`, -(2 ** 31), 2 ** 31 - 1),
    intLeaf(`model.lif.${f}.tauShift`, 0, 15),
    { path: ["model", "lif", f, "decayInput"], kind: "bool" },
    { path: ["model", "lif", f, "fire"], kind: "enum", options: [">=", ">"] },
    { path: ["model", "lif", f, "reset"], kind: "enum", options: ["zero", "subtract"] },
    intLeaf(`model.lif.${f}.stateBits`, 2, 32),
  ]),
  intLeaf("hardware.synapticLanes", 2, 4096),
  intLeaf("hardware.tokenGroup", 1, 256),
  intLeaf("hardware.lifLanes", 1, 256),
  intLeaf("hardware.attnCores", 1, 256),
  intLeaf("hardware.macroMinBits", 0, 1 << 24),
  { path: ["hardware", "clockMHz"], kind: "num", min: 0, max: 5000, exclusiveMin: true },
  { path: ["integration", "mode"], kind: "enum", options: ["2d", "memory-on-logic", "logic-on-logic", "auto"] },
  { path: ["integration", "bondPitchUm"], kind: "num", min: 0, max: 100, exclusiveMin: true },
  { path: ["integration", "bondUsableFraction"], kind: "num", min: 0, max: 1, exclusiveMin: true },
  { path: ["integration", "f2fRegisters"], kind: "bool" },
  { path: ["integration", "balance"], kind: "num", min: 0, max: 1, exclusiveMin: true },
];
const OBJECTS: string[][] = [[], ["model"], ["model", "lif"], ...FAMILIES.map((f) => ["model", "lif", f]), ["hardware"], ["integration"]];

/** Values of the wrong type for a leaf. */
function wrongTypes(l: Leaf): fc.Arbitrary<unknown> {
  const common: fc.Arbitrary<unknown>[] = [fc.constant(null), fc.constant([]), fc.constant({}), fc.array(fc.integer(), { minLength: 1, maxLength: 3 }), fc.dictionary(fc.string(), fc.integer(), { minKeys: 1, maxKeys: 2 })];
  if (l.kind === "int" || l.kind === "num") return fc.oneof(...common, fc.string(), fc.integer().map(String), fc.boolean(), fc.constant("1e3"));
  if (l.kind === "bool") return fc.oneof(...common, fc.constantFrom("true", "false", "yes", 0, 1, "1"), fc.integer());
  if (l.kind === "enum") return fc.oneof(...common, fc.integer(), fc.boolean(), fc.string().filter((s) => !l.options!.includes(s)), fc.constantFrom(...l.options!.map((o) => o.toUpperCase() + " ")));
  return fc.oneof(...common, fc.integer(), fc.boolean()); // name
}

/** Numbers of the right type that the leaf refuses. */
function badNumbers(l: Leaf): fc.Arbitrary<unknown> {
  const out: fc.Arbitrary<unknown>[] = [fc.constantFrom(NaN, Infinity, -Infinity)];
  if (l.min !== undefined) {
    out.push(l.exclusiveMin ? fc.constantFrom(l.min, l.min - 1, -1e-9 + l.min) : fc.integer({ min: -(2 ** 40), max: l.min - 1 }));
    out.push(fc.constantFrom(l.min - 1, l.min - 0.5));
  }
  if (l.max !== undefined) {
    out.push(fc.double({ min: l.max + 1e-6, max: 1e15, noNaN: true }));
    out.push(fc.constantFrom(l.max + 1, 2 ** 53, 1e300));
  }
  if (l.kind === "int") out.push(fc.double({ min: l.min!, max: Math.min(l.max!, l.min! + 1000), noNaN: true }).filter((x) => !Number.isInteger(x)));
  return fc.oneof(...out);
}

/** Bad design names: syntax, keywords, injection attempts, length, reserved prefixes. */
const badNameArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "1abc",
    "_x",
    "a b",
    "a-b",
    "a.b",
    "a/b",
    "../x",
    "a; module x",
    "a;module x(); endmodule //",
    "x\nmodule evil();",
    "a`define",
    "\\escaped",
    "$display",
    "a\u00e9",
    "\u0430bc", // Cyrillic a
    "x".repeat(33),
    "module",
    "endmodule",
    "wire",
    "reg",
    "logic",
    "always",
    "fakeram45",
    "fakeram45_2p",
    "a__b",
    "x_",
    "x__",
    "top_",
  ),
  fc.constantFrom(...[...VERILOG_KEYWORDS]),
  fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(s)),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{32,40}$/),
);

/** Unknown keys, including the prototype-pollution names. */
const unknownKeyArb = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "Model", "heads ", "dims", "lanes", "extra", ""),
  fc.string({ minLength: 1, maxLength: 12 }),
);

function knownKeysAt(p: string[]): Set<string> {
  const at = p.join(".");
  const keys = new Set<string>();
  for (const l of LEAVES) {
    const lp = l.path.join(".");
    if (at === "" ? true : lp.startsWith(at + ".")) keys.add(l.path[p.length]);
  }
  return keys;
}

function mutationArb(base: Obj): fc.Arbitrary<Mutation> {
  const model = base.model as Obj;
  const leafMut = fc.constantFrom(...LEAVES).chain((l) =>
    fc.oneof(wrongTypes(l), l.kind === "int" || l.kind === "num" ? badNumbers(l) : l.kind === "name" ? badNameArb : wrongTypes(l)).map(
      (v): Mutation => ({ field: l.path.join("."), what: `${l.path.join(".")} = ${JSON.stringify(v)}`, apply: (c) => setAt(c, l.path, v) }),
    ),
  );
  const unknownMut = fc.tuple(fc.constantFrom(...OBJECTS), unknownKeyArb).filter(([p, k]) => !knownKeysAt(p).has(k)).map(
    ([p, k]): Mutation => ({ field: [...p, keyLabel(k)].join("."), what: `unknown key ${JSON.stringify([...p, k].join("."))}`, apply: (c) => setAt(c, [...p, k], 1) }),
  );
  const notObject = fc.tuple(fc.constantFrom(...OBJECTS.filter((p) => p.length > 0)), fc.constantFrom<unknown>(null, 5, "x", true, [], [1, 2])).map(
    ([p, v]): Mutation => ({ field: p.join("."), what: `${p.join(".")} = ${JSON.stringify(v)}`, apply: (c) => setAt(c, p, v) }),
  );
  const D = model.dim as number;
  const nonDivisors = Array.from({ length: Math.min(256, 2 * D + 3) }, (_, i) => i + 1).filter((h) => D % h !== 0);
  const cross: fc.Arbitrary<Mutation>[] = [
    fc.integer({ min: (model.experts as number) + 1, max: 64 }).map((k): Mutation => ({ field: "model.topK", what: `topK ${k} > experts ${model.experts}`, apply: (c) => setAt(c, ["model", "topK"], k) })),
    fc.tuple(fc.constantFrom(...FAMILIES), fc.integer({ min: 2, max: 31 }), fc.boolean()).map(([f, sb, neg]): Mutation => {
      const thr = neg ? -(2 ** (sb - 1)) - 1 : 2 ** (sb - 1);
      return { field: `model.lif.${f}.threshold`, what: `lif.${f} threshold ${thr} with stateBits ${sb}`, apply: (c) => setAt(setAt(c, ["model", "lif", f, "stateBits"], sb), ["model", "lif", f, "threshold"], thr) };
    }),
    fc.integer({ min: (model.heads as number) + 1, max: 256 }).map((n): Mutation => ({ field: "hardware.attnCores", what: `attnCores ${n} > heads ${model.heads}`, apply: (c) => setAt(c, ["hardware", "attnCores"], n) })),
    fc.constantFrom("memory-on-logic", "logic-on-logic", "auto").map((mode): Mutation => ({
      field: "integration.f2fRegisters",
      what: `f2fRegisters with mode ${mode}`,
      apply: (c) => setAt(setAt(c, ["integration", "mode"], mode), ["integration", "f2fRegisters"], true),
    })),
    // a threshold over the default stateBits (16) when only the threshold is given
    fc.tuple(fc.constantFrom(...FAMILIES), fc.integer({ min: 2 ** 15, max: 2 ** 31 - 1 })).map(([f, thr]): Mutation => ({
      field: `model.lif.${f}.threshold`,
      what: `lif.${f} = { threshold: ${thr} } (default stateBits 16)`,
      apply: (c) => setAt(c, ["model", "lif", f], { threshold: thr }),
    })),
  ];
  if (nonDivisors.length)
    cross.push(fc.constantFrom(...nonDivisors).map((h): Mutation => ({ field: "model.heads", what: `dim ${D} % heads ${h} != 0`, apply: (c) => setAt(c, ["model", "heads"], h) })));
  return fc.oneof({ weight: 6, arbitrary: leafMut }, { weight: 2, arbitrary: unknownMut }, { weight: 1, arbitrary: notObject }, { weight: 2, arbitrary: fc.oneof(...cross) });
}

/** Fully explicit valid config (every field present), so any leaf can be mutated in place. */
function explicit(cfg: Obj): Obj {
  const r = resolve(parseConfig(cfg));
  const u = clone(r.user) as unknown as Obj;
  const hw = u.hardware as Obj;
  hw.attnCores = r.hw.attnCores;
  return u;
}

const invalidArb = configArb.map(explicit).chain((base) => mutationArb(base).map((m) => ({ base, m })));

function expectNamed(input: unknown, field: string, what: string): void {
  stats.invalid++;
  let err: unknown;
  const t0 = performance.now();
  try {
    resolve(parseConfig(input, "(fuzz)"));
  } catch (e) {
    err = e;
  }
  // validation is cheap whatever the input (a huge number once made it loop over all divisors of dim)
  const ms = performance.now() - t0;
  if (ms > 2000) throw new Error(`validation took ${ms.toFixed(0)} ms (${what})`);
  if (err === undefined) {
    stats.invalidAccepted++;
    throw new Error(`accepted an invalid config (${what}): ${JSON.stringify(input)}`);
  }
  if (!(err instanceof ConfigError)) {
    stats.invalidCrashes++;
    throw new Error(`${(err as Error)?.name}: ${(err as Error)?.message} — not a ConfigError (${what})`);
  }
  const msg = err.message;
  const ok = field === "" ? /top level/.test(msg) : msg.split("\n").some((line) => line.includes(`${field}:`) || line.includes(`${field} `) || line.trim().startsWith(field));
  if (!ok) {
    stats.invalidUnnamed++;
    throw new Error(`the error does not name '${field}' (${what}):\n${msg}`);
  }
}

describe("fuzz: random invalid configs give a ConfigError naming the field", () => {
  it(`${INVALID_COUNT} mutations of valid configs (seed ${SEED})`, () => {
    fc.assert(
      fc.property(invalidArb, ({ base, m }) => {
        const input = m.apply(clone(base));
        expectNamed(input, m.field, m.what);
      }),
      { numRuns: INVALID_COUNT, seed: SEED },
    );
  });

  it("non-object top levels", () => {
    for (const v of [null, undefined, 0, 42, "tiny", "", true, [], [{ name: "x" }], () => 1, Symbol("s"), 10n]) expectNamed(v, "", String(typeof v));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.array(fc.anything())), (v) => expectNamed(v, "", JSON.stringify(v))),
      { numRuns: 100, seed: SEED },
    );
  });

  it("anything at all: only ConfigError or a valid config", () => {
    // unstructured objects, including deep garbage under the known keys
    const known = fc.record({ name: fc.anything(), model: fc.anything(), hardware: fc.anything(), integration: fc.anything() }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.object(), known), (v) => {
        try {
          resolve(parseConfig(v, "(fuzz)"));
        } catch (e) {
          if (!(e instanceof ConfigError)) throw new Error(`${(e as Error)?.name}: ${(e as Error)?.message} for ${String(JSON.stringify(v))?.slice(0, 300)}`);
        }
      }),
      { numRuns: 4 * INVALID_COUNT, seed: SEED },
    );
  });
});
