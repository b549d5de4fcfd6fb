/**
 * The sweep file (YAML or JSON) and the points it stands for.
 *
 *   name: lanes-and-modes          # optional title (default: the file name)
 *   base: tiny                     # a preset or a config file (relative to the sweep file)
 *   set:                           # optional: fixed changes to the base, config path -> value
 *     hardware.clockMHz: 400
 *   axes:                          # config path -> list of values; the points are every combination
 *     hardware.synapticLanes: [8, 16, 32]
 *     integration.mode: [2d, memory-on-logic, logic-on-logic, auto]
 *   workload:                      # random models (density x seed), or `model: <folder>`
 *     density: [0.15]
 *     seed: [1]
 *   stages: [cycles, physical]     # cycles | physical | report
 *   cycles: { sim: verilator, view: 2d, check: true }
 *   objectives: [cycles, footprintUm2]    # or { metric: utilization, goal: maximize }
 *
 * Points are enumerated like nested loops: the first axis varies slowest, then the next axes,
 * then the workload (density, then seed, fastest).  A point's index is its position in that
 * order; its key (the name of its result file) is `<config hash>-<workload>`, so it does not
 * depend on the order and a re-run (or a bigger sweep into the same folder) finds it again.
 *
 * Errors in the file itself (a key, a path that is not a config field, a value that no config
 * could accept) are fatal and name the field; a combination that the config rules reject
 * (e.g. heads that do not divide dim) makes that point "invalid" with the config's message,
 * and the sweep goes on.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { z } from "zod";
import { ConfigError, keyLabel, listPresets, loadConfig, parseConfig } from "../config/load.ts";
import { formatProblem } from "../config/errors.ts";
import { nearestKey, unwrap } from "../config/validate.ts";
import { canonicalJson, hardwareResolved, resolve, type Resolved } from "../config/resolve.ts";
import { configSchema, type UserConfig } from "../config/schema.ts";
import { isMetric, METRICS, STAGES, type Objective, type StageName } from "./metrics.ts";

export class SweepError extends ConfigError {
  constructor(message: string, problems: string[] = [message]) {
    super(message, problems);
    this.name = "ConfigError";
  }
}

/** A wrong use of the sweep command (shown like the CLI's usage errors). */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A problem line in the config error format: "<field>: <message> (got <value>); valid: <valid>". */
function problem(field: string, message: string, got?: { v: unknown }, valid?: string): string {
  return formatProblem({ field, message, ...(got ? { got: got.v } : {}), ...(valid ? { valid } : {}) });
}

function sweepError(source: string, lines: string[]): SweepError {
  return new SweepError(lines.length === 1 ? `invalid sweep ${source}: ${lines[0]}` : `invalid sweep ${source}:\n  ${lines.join("\n  ")}`, lines);
}

const oneOrMany = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1, { message: "must list at least one value" })]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const objectiveSchema = z.union([
  z.string(),
  z.strictObject({
    metric: z.string(),
    goal: z.enum(["minimize", "maximize"]).optional(),
  }),
]);

export const sweepSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { message: "must be letters, digits, '.', '_' or '-' (at most 64 characters)" })
    .optional()
    .describe("Title of the sweep (default: the sweep file's name)."),
  base: z.string().min(1).default("default").describe("Base config: a preset name or a config file (relative to the sweep file)."),
  set: z.record(z.string(), z.unknown()).default({}).describe("Fixed changes to the base config: config path -> value."),
  axes: z.record(z.string(), z.array(z.unknown()).min(1, { message: "an axis must list at least one value" })).describe("Config path -> values; the points are every combination."),
  workload: z
    .strictObject({
      density: oneOrMany(z.number().gt(0).lt(1)).optional().describe("Target spike densities of random models (0..1, exclusive); default [0.15]."),
      seed: oneOrMany(z.number().int().min(0).max(2 ** 31 - 1)).optional().describe("PRNG seeds of random models; default [1]."),
      model: z.string().min(1).optional().describe("A model folder (weights/ and input.npy, as `st3d random-model` writes) instead of random models."),
    })
    .prefault({})
    .describe("What each point runs."),
  stages: z
    .array(z.enum(STAGES as unknown as [StageName, ...StageName[]]))
    .min(1)
    .default(["cycles"])
    .describe("cycles: generate + st3d run; physical: areas, footprint and bonds (st3d generate --physical); report: the 2D-vs-3D report."),
  cycles: z
    .strictObject({
      sim: z.enum(["verilator", "icarus"]).default("verilator"),
      view: z.enum(["2d", "3d"]).default("2d").describe("2d top, or the assembled 3D tiers (3D points only; 2d points always run the 2d top)."),
      check: z.boolean().default(true).describe("Compare the simulated output with the golden model value by value (a mismatch fails the point)."),
    })
    .prefault({}),
  objectives: z.array(objectiveSchema).min(1).default(["cycles"]).describe("Metrics of the Pareto front, each minimized or maximized."),
});
export type SweepInput = z.input<typeof sweepSchema>;

export type Workload = { kind: "random"; density: number; seed: number } | { kind: "model"; dir: string; hash: string };

export interface SweepDef {
  name: string;
  /** the sweep file (absolute), or "(inline)" */
  file: string;
  /** preset name or absolute config path */
  base: string;
  baseConfig: UserConfig;
  set: Record<string, unknown>;
  axes: { path: string; values: unknown[] }[];
  workloads: Workload[];
  stages: StageName[];
  cycles: { sim: "verilator" | "icarus"; view: "2d" | "3d"; check: boolean };
  objectives: Objective[];
  /** sha256 of everything that decides the points and their results (not the file's formatting) */
  digest: string;
}

export interface Point {
  index: number;
  /** result file name stem: `<config hash>-<workload>` (invalid configs: `x<hash of the raw config>-<workload>`) */
  key: string;
  /** "hardware.synapticLanes=8, integration.mode=2d, density=0.15, seed=1" */
  label: string;
  axes: Record<string, unknown>;
  workload: Workload;
  /** the point's whole config (defaults applied) when it is valid */
  config?: UserConfig;
  resolved?: Resolved;
  configHash?: string;
  /** points of one group share their builds (same hardware: the config hash with integration.mode 2d); the pool runs one at a time */
  group: string;
  /** the config error when the combination is invalid */
  invalid?: string;
}

export const MAX_POINTS = 100_000;

/** Parse the text of a sweep file. */
export function parseSweepText(text: string, source: string): unknown {
  const trimmed = text.trimStart();
  const json = trimmed.startsWith("{") || source.endsWith(".json");
  try {
    return json ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new SweepError(`cannot read sweep ${source}: not valid ${json ? "JSON" : "YAML"} (${(e as Error).message.split("\n")[0]})`);
  }
}

/** Load and validate a sweep file. */
export function loadSweep(file: string): SweepDef {
  if (!fs.existsSync(file)) throw new SweepError(`no sweep file '${file}'`);
  if (!fs.statSync(file).isFile()) throw new SweepError(`cannot read sweep ${file}: it is a folder, not a YAML or JSON file`);
  const buf = fs.readFileSync(file);
  const text = buf.toString("utf8");
  if (buf.includes(0) || text.includes("\uFFFD")) throw new SweepError(`cannot read sweep ${file}: not a JSON or YAML text file (binary data)`);
  return parseSweep(parseSweepText(text, file), path.resolve(file));
}

/** The schema of the config field at a dotted path, or why there is none. */
export function configField(p: string): { schema: z.ZodType } | { error: string; valid?: string } {
  const parts = p.split(".");
  if (parts.some((x) => x === "")) return { error: "a config path is field names joined by '.', e.g. hardware.synapticLanes" };
  let s: z.ZodType = configSchema;
  for (let i = 0; i < parts.length; i++) {
    const obj = unwrap(s);
    const here = parts.slice(0, i).join(".");
    if (!(obj instanceof z.ZodObject)) return { error: `${here} is a value, it has no field '${parts[i]}'` };
    const shape = obj.shape as Record<string, z.ZodType>;
    const next = Object.prototype.hasOwnProperty.call(shape, parts[i]) ? shape[parts[i]] : undefined;
    if (!next) {
      const keys = Object.keys(shape);
      // a typo (nearestKey), or a shortened name ("lanes" for synapticLanes)
      const w = parts[i].toLowerCase();
      const near = nearestKey(parts[i], keys) ?? (w.length >= 3 ? keys.find((k) => k.toLowerCase().includes(w)) : undefined);
      const hint = near ? `; did you mean ${[...parts.slice(0, i), near].join(".")}?` : "";
      return { error: `not a config field (no '${parts[i]}' ${here ? `in ${here}` : "at the top level"})${hint}`, valid: `${here ? here + "." : ""}{${keys.join(", ")}}` };
    }
    s = next;
  }
  const leaf = unwrap(s);
  if (leaf instanceof z.ZodObject) return { error: `${p} is a section, not a value; name one of its fields`, valid: `${p}.{${Object.keys(leaf.shape).join(", ")}}` };
  return { schema: s };
}

/** Set a dotted path in a (cloned) config object, creating sections on the way. */
export function setPath(obj: Record<string, unknown>, p: string, v: unknown): void {
  const parts = p.split(".");
  let cur = obj;
  for (const k of parts.slice(0, -1)) {
    const nx = cur[k];
    if (nx === null || typeof nx !== "object" || Array.isArray(nx)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = v;
}

const axisField = (p: string) => `axes[${JSON.stringify(p)}]`;
const setField = (p: string) => `set[${JSON.stringify(p)}]`;

/** Check a value against one config field on its own (type, range, options; no cross-field rule). */
function checkValue(schema: z.ZodType, v: unknown): string | null {
  const r = schema.safeParse(v);
  if (r.success) return null;
  return r.error.issues.map((i) => i.message).join("; ");
}

function hashFolder(dir: string): string {
  const h = crypto.createHash("sha256");
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(`${p}\0`).update(fs.readFileSync(path.join(dir, p))).update("\0");
    }
  };
  walk("");
  return h.digest("hex").slice(0, 12);
}

/** Validate a parsed sweep object; `file` is the sweep file (absolute) that relative paths start from. */
export function parseSweep(input: unknown, file = "(inline)"): SweepDef {
  const source = file;
  if (input === null || typeof input !== "object" || Array.isArray(input))
    throw new SweepError(`invalid sweep ${source}: the top level must be a mapping with base, axes, workload, stages and objectives`);
  const r = sweepSchema.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.flatMap((iss) => {
      const field = iss.path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 1 && (iss.path[0] === "axes" || iss.path[0] === "set") ? `[${JSON.stringify(k)}]` : `${i ? "." : ""}${keyLabel(String(k))}`)).join("") || "(sweep)";
      if (iss.code === "unrecognized_keys") {
        const valid = iss.path.length === 0 ? Object.keys(sweepSchema.shape).join(", ") : iss.path[0] === "workload" ? "density, seed, model" : iss.path[0] === "cycles" ? "sim, view, check" : iss.path[0] === "objectives" ? "metric, goal" : undefined;
        return iss.keys.map((k) => problem(field === "(sweep)" ? keyLabel(k) : `${field}.${keyLabel(k)}`, "unknown key", undefined, valid));
      }
      let got: unknown = input;
      for (const k of iss.path) got = got && typeof got === "object" ? (got as Record<PropertyKey, unknown>)[k] : undefined;
      return [problem(field, iss.message, { v: got })];
    });
    throw sweepError(source, lines);
  }
  const s = r.data;
  const dir = file === "(inline)" ? process.cwd() : path.dirname(file);
  const lines: string[] = [];

  // base config
  let base = s.base;
  let baseConfig: UserConfig | undefined;
  const asFile = path.resolve(dir, s.base);
  try {
    if (fs.existsSync(asFile) && fs.statSync(asFile).isFile()) {
      base = asFile;
      baseConfig = loadConfig(asFile);
    } else if (/^[A-Za-z0-9_-]+$/.test(s.base) && listPresets().includes(s.base)) baseConfig = loadConfig(s.base);
    else lines.push(problem("base", `no config file ${asFile} and no preset of that name`, { v: s.base }, `a preset (${listPresets().join(", ")}) or a config file`));
  } catch (e) {
    lines.push(problem("base", (e as Error).message));
  }

  // set and axes: config paths, and values each field can hold on its own
  const pathsSeen = new Set<string>();
  for (const [p, v] of Object.entries(s.set)) {
    const f = configField(p);
    if ("error" in f) lines.push(problem(setField(p), f.error, undefined, f.valid));
    else {
      const bad = checkValue(f.schema, v);
      if (bad) lines.push(problem(setField(p), bad, { v }));
    }
    pathsSeen.add(p);
  }
  const axes = Object.entries(s.axes).map(([p, values]) => ({ path: p, values }));
  if (axes.length === 0 && file !== "(inline)") {
    /* a sweep of one point (only the workload varies) is allowed */
  }
  for (const a of axes) {
    const f = configField(a.path);
    if ("error" in f) {
      lines.push(problem(axisField(a.path), f.error, undefined, f.valid));
      continue;
    }
    if (pathsSeen.has(a.path)) lines.push(problem(axisField(a.path), "also fixed in set; keep it in one place"));
    for (const q of axes) if (q !== a && (q.path.startsWith(a.path + ".") || a.path.startsWith(q.path + "."))) lines.push(problem(axisField(a.path), `overlaps axis ${q.path}`));
    const seen = new Set<string>();
    a.values.forEach((v, i) => {
      const bad = checkValue(f.schema, v);
      if (bad) lines.push(problem(`${axisField(a.path)}[${i}]`, bad, { v }));
      const c = canonicalJson(v);
      if (seen.has(c)) lines.push(problem(`${axisField(a.path)}[${i}]`, "listed twice", { v }));
      seen.add(c);
    });
  }

  // workload
  const wl = s.workload;
  let workloads: Workload[] = [];
  if (wl.model !== undefined) {
    if (wl.density !== undefined || wl.seed !== undefined) lines.push(problem("workload", "give either model (a folder) or density/seed (random models), not both"));
    const m = path.resolve(dir, wl.model);
    if (!fs.existsSync(m) || !fs.statSync(m).isDirectory()) lines.push(problem("workload.model", `no folder ${m}`, { v: wl.model }, "a folder holding weights/ and input.npy (see st3d random-model)"));
    else if (!fs.existsSync(path.join(m, "weights")) || !fs.existsSync(path.join(m, "input.npy")))
      lines.push(problem("workload.model", `${m} must hold weights/ (the .npy tensors) and input.npy`, { v: wl.model }));
    else workloads = [{ kind: "model", dir: m, hash: hashFolder(m) }];
  } else {
    const dens = wl.density ?? [0.15];
    const seeds = wl.seed ?? [1];
    if (new Set(dens).size !== dens.length) lines.push(problem("workload.density", "a value is listed twice", { v: dens }));
    if (new Set(seeds).size !== seeds.length) lines.push(problem("workload.seed", "a value is listed twice", { v: seeds }));
    for (const d of dens) for (const seed of seeds) workloads.push({ kind: "random", density: d, seed });
  }

  // stages and objectives
  const stages = STAGES.filter((st) => s.stages.includes(st));
  if (new Set(s.stages).size !== s.stages.length) lines.push(problem("stages", "a stage is listed twice", { v: s.stages }));
  const objectives: Objective[] = [];
  s.objectives.forEach((o, i) => {
    const metric = typeof o === "string" ? o : o.metric;
    const field = typeof o === "string" ? `objectives[${i}]` : `objectives[${i}].metric`;
    if (!isMetric(metric)) {
      lines.push(problem(field, "not a metric", { v: metric }, Object.keys(METRICS).join(", ")));
      return;
    }
    const info = METRICS[metric];
    if (!info.stages.some((st) => stages.includes(st))) lines.push(problem(field, `${metric} is computed by the ${info.stages.join(" or ")} stage, which this sweep does not run; add it to stages`, { v: metric }));
    if (objectives.some((x) => x.metric === metric)) lines.push(problem(field, "listed twice", { v: metric }));
    objectives.push({ metric, goal: typeof o === "string" ? info.goal : (o.goal ?? info.goal) });
  });

  const nPoints = axes.reduce((n, a) => n * a.values.length, 1) * Math.max(1, workloads.length);
  if (nPoints > MAX_POINTS) lines.push(problem("axes", `${nPoints} points is more than ${MAX_POINTS}; split the sweep`));
  if (lines.length || !baseConfig) throw sweepError(source, lines);

  const def: Omit<SweepDef, "digest"> = {
    name: s.name ?? (file === "(inline)" ? "sweep" : path.basename(file).replace(/\.(ya?ml|json)$/i, "")),
    file,
    base,
    baseConfig,
    set: s.set,
    axes,
    workloads,
    stages,
    cycles: s.cycles,
    objectives,
  };
  const digest = crypto
    .createHash("sha256")
    .update(canonicalJson({ baseConfig, set: s.set, axes, workloads: workloads.map(wlId), stages, cycles: s.cycles, objectives }))
    .digest("hex")
    .slice(0, 16);
  return { ...def, digest };
}

/** A workload's part of a point key: `d0.15-s1`, or `m<hash of the model folder>`. */
export function wlId(w: Workload): string {
  return w.kind === "random" ? `d${w.density}-s${w.seed}` : `m${w.hash}`;
}

export function workloadLabel(w: Workload): string {
  return w.kind === "random" ? `density=${w.density}, seed=${w.seed}` : `model=${w.dir}`;
}

/** Every point of the sweep, in index order (see the top of this file). */
export function expandPoints(s: SweepDef): Point[] {
  const combos: Record<string, unknown>[] = [{}];
  for (const a of s.axes) {
    const next: Record<string, unknown>[] = [];
    for (const c of combos) for (const v of a.values) next.push({ ...c, [a.path]: v });
    combos.splice(0, combos.length, ...next);
  }
  const points: Point[] = [];
  for (const axes of combos) {
    const raw = structuredClone(s.baseConfig) as unknown as Record<string, unknown>;
    for (const [p, v] of Object.entries(s.set)) setPath(raw, p, structuredClone(v));
    for (const [p, v] of Object.entries(axes)) setPath(raw, p, structuredClone(v));
    const axisLabel = Object.entries(axes)
      .map(([p, v]) => `${p}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(", ");
    let config: UserConfig | undefined;
    let resolved: Resolved | undefined;
    let invalid: string | undefined;
    try {
      config = parseConfig(raw, "of this point");
      resolved = resolve(config);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      invalid = e.message;
      config = undefined;
    }
    const stem = resolved ? resolved.hash : `x${crypto.createHash("sha256").update(canonicalJson(raw)).digest("hex").slice(0, 15)}`;
    for (const w of s.workloads) {
      points.push({
        index: points.length,
        key: `${stem}-${wlId(w)}`,
        label: [axisLabel, workloadLabel(w)].filter(Boolean).join(", "),
        axes,
        workload: w,
        config,
        resolved,
        configHash: resolved?.hash,
        group: resolved ? hardwareResolved(resolved).hash : stem,
        invalid,
      });
    }
  }
  return points;
}

/** Parse a point list "3", "0,2,5-7" against the number of points. */
export function parsePointList(spec: string, n: number): number[] {
  const out = new Set<number>();
  for (const part of spec.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new SweepError(`--point: '${part}' is not a point index or a range like 2-5 (the sweep has points 0..${n - 1})`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= n) throw new SweepError(`--point: ${part} is outside the sweep's points 0..${n - 1}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}
