/**
 * Every check of a config, in one place, run by parseConfig (so by `st3d validate` and by every
 * command before it does anything):
 *
 *   1. the schema (./schema.ts): types, ranges, enums, unknown keys (with the nearest valid key);
 *   2. RULES: relations between fields (dim % heads, topK <= experts, thresholds within stateBits,
 *      cores <= heads / experts, F2F registers only in 2D);
 *   3. CAPACITY: what the generated design can hold, computed from the planned design itself
 *      (generator/top/accelerator.ts planAccelerator: the blocks' own params and memories), so a
 *      config that validates always generates.
 *
 * Each phase reports all its problems at once in the format of ./errors.ts; a later phase runs
 * only when the earlier ones found nothing (relations need valid fields, capacity a consistent
 * config).  What generation still throws after this is an internal assertion ("internal: ...").
 */
import { z } from "zod";
import { configError, keyLabel, type ConfigProblem } from "./errors.ts";
import { leafTypes } from "./reference.ts";
import { configSchema, type UserConfig } from "./schema.ts";
import { defaultAttnCores, laneSplit, OFFCHIP_ADDR_BITS, resolve, weightStreamConfigOf, type Resolved } from "./resolve.ts";
import { HOST_INDEX_BITS, HOST_REGION_BITS, hostFields } from "../blocks/ctrl/ctrl.ts";
import { planAccelerator } from "../top/accelerator.ts";
import { maxS, minS } from "../util/bits.ts";

// ------------------------------------------------------------------ 1. schema

function getAt(obj: unknown, p: PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of p) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

export function unwrap(s: z.ZodType): z.ZodType {
  // peel defaults/optionals/pipes to reach the object schema
  for (let i = 0; i < 8; i++) {
    const def = (s as unknown as { def?: { type?: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (!def) break;
    if (def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The keys the schema accepts in the object at path `p` (empty when `p` is not an object). */
export function validKeysAt(p: PropertyKey[]): string[] {
  let s: z.ZodType = configSchema;
  for (const k of p) {
    s = unwrap(s);
    if (!(s instanceof z.ZodObject)) return [];
    s = (s.shape as Record<string, z.ZodType>)[String(k)];
    if (!s) return [];
  }
  s = unwrap(s);
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** Edit distance (insert, delete, substitute, swap of neighbours), case-insensitive. */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The valid key closest to an unknown one, when it is close enough to be a typo. */
export function nearestKey(key: string, valid: readonly string[]): string | undefined {
  const k = key.trim();
  let best: string | undefined;
  let bestD = Infinity;
  for (const v of valid) {
    const d = distance(k, v);
    if (d < bestD) [best, bestD] = [v, d];
  }
  return best !== undefined && k.length > 0 && bestD <= Math.max(1, Math.floor(Math.max(k.length, best.length) / 3)) ? best : undefined;
}

/** The problems of a zod failure, in the one format (field, what is wrong, got, valid). */
export function schemaProblems(err: z.ZodError, input: unknown): ConfigProblem[] {
  const types = leafTypes();
  const out: ConfigProblem[] = [];
  for (const iss of err.issues) {
    const base = iss.path.map((k) => keyLabel(String(k))).join(".");
    if (iss.code === "unrecognized_keys") {
      const valid = validKeysAt(iss.path);
      for (const k of iss.keys) {
        const near = nearestKey(k, valid);
        out.push({ field: base ? `${base}.${keyLabel(k)}` : keyLabel(k), message: `unknown key${near ? ` (did you mean '${near}'?)` : ""}`, valid: valid.join(", ") });
      }
      continue;
    }
    const field = iss.path.map(String).join(".");
    const type = types.get(field);
    const valid = type ?? (iss.code === "invalid_value" ? iss.values.map((v) => JSON.stringify(v)).join(" | ") : undefined);
    out.push({ field: base || "(config)", message: iss.message, got: getAt(input, iss.path), ...(valid ? { valid } : {}) });
  }
  return out;
}

// ------------------------------------------------------------------ 2. rules between fields

function divisors(n: number): string[] {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 1; i * i <= n; i++)
    if (n % i === 0) {
      lo.push(i);
      if (i * i !== n) hi.unshift(n / i);
    }
  const out = [...lo, ...hi].map(String);
  return out.length > 12 ? [...out.slice(0, 6), "…", ...out.slice(-3)] : out;
}

/** hardware.weightsOnChip, weightBuffer, offchipBeatBits: combinations, and a buffer that holds the working set. */
function weightProblems(u: UserConfig): ConfigProblem[] {
  const h = u.hardware;
  const out: ConfigProblem[] = [];
  const onChip = h.weightsOnChip ?? true;
  if (onChip) {
    for (const f of ["weightBuffer", "offchipBeatBits"] as const)
      if (h[f] !== undefined)
        out.push({
          field: `hardware.${f}`,
          message: `applies only when the weights stream from off-chip memory, but hardware.weightsOnChip is ${h.weightsOnChip === undefined ? "true (the default)" : "true"}: set hardware.weightsOnChip: false, or remove hardware.${f}`,
          got: h[f],
          valid: "(absent) with weightsOnChip true",
        });
    return out;
  }
  const m = u.model;
  const lanes = laneSplit(h.synapticLanes, m.dim, m.expertHidden, m.experts).pool;
  const w = weightStreamConfigOf(h, m, lanes);
  if (w.halfDepth < w.largestLayer.words)
    out.push({
      field: "hardware.weightBuffer",
      message: `the buffer does not hold one layer's working set: the largest pool layer, ${w.largestLayer.name} (${w.largestLayer.name === "fc1" ? "tilesF x D" : w.largestLayer.name === "fc2" ? "tilesD x F" : "tilesD x D"} = ${w.largestLayer.words} words of ${w.wordBits} bits = ${w.largestLayer.words * w.wordBits} bits), must fit one half, and a half holds floor(weightBuffer / (2 x ${w.wordBits})) = ${w.halfDepth} words; set hardware.weightBuffer to at least ${w.workingSetBits} (or remove it: that is the default), or set hardware.weightsOnChip: true`,
      got: h.weightBuffer,
      valid: `>= ${w.workingSetBits}`,
    });
  const imageWords = w.imageWords;
  const imageBytes = (imageWords * w.beatsPerWord * w.beatBits) / 8;
  if (imageBytes > 2 ** OFFCHIP_ADDR_BITS)
    out.push({
      field: "hardware.weightsOnChip",
      message: `the off-chip weight image (${imageWords} words x ${w.beatsPerWord} beat(s) of ${w.beatBits} bits = ${imageBytes} bytes) does not fit the ${OFFCHIP_ADDR_BITS}-bit address space of the weight port`,
      got: false,
      valid: "a smaller model (fewer blocks, experts, channels)",
    });
  return out;
}

/** Relations between fields of a config the schema accepted (defaults applied). */
export function ruleProblems(u: UserConfig): ConfigProblem[] {
  const m = u.model;
  const out: ConfigProblem[] = [];
  if (m.dim % m.heads !== 0) out.push({ field: "model.heads", message: `heads must divide dim (dim = ${m.dim})`, got: m.heads, valid: divisors(m.dim).join(", ") });
  if (m.topK > m.experts) out.push({ field: "model.topK", message: `topK must be <= experts (${m.experts})`, got: m.topK, valid: `1..${m.experts}` });
  for (const fam of ["shortcut", "qkv", "attn", "hidden"] as const) {
    const l = m.lif[fam];
    const lo = minS(l.stateBits);
    const hi = maxS(l.stateBits);
    if (l.threshold < lo || l.threshold > hi)
      out.push({ field: `model.lif.${fam}.threshold`, message: `threshold must fit lif.${fam}.stateBits = ${l.stateBits}; raise stateBits or lower the threshold`, got: l.threshold, valid: `${lo}..${hi}` });
  }
  const attnCores = u.hardware.attnCores ?? defaultAttnCores(m.heads);
  if (attnCores > m.heads) out.push({ field: "hardware.attnCores", message: `${attnCores} cores for ${m.heads} heads would leave cores idle (a core computes one head at a time)`, got: attnCores, valid: `1..${m.heads} (model.heads)` });
  out.push(...weightProblems(u));
  if (u.integration.f2fRegisters && u.integration.mode !== "2d")
    out.push({
      field: "integration.f2fRegisters",
      message: `a register stage on each side of the bond adds 2 cycles to every cross-tier signal (a memory on the other die would answer 3 cycles after re instead of 1), so the 3D assembly would no longer be cycle-equivalent to the 2D top and 'st3d run --view 3d' could not be exact (docs/3D.md, "F2F registers"); integration.mode is '${u.integration.mode}'`,
      got: true,
      valid: "false (or integration.mode '2d')",
    });
  return out;
}

// ------------------------------------------------------------------ 3. capacity of the design

/**
 * Verilator (5.006) refuses a constant wider than 65536 bits ("Width of number exceeds
 * implementation limit", the minimum IEEE 1800-2017 §6.9.1 lets tools set); the MoE routing
 * columns print constants of one bit per row-buffer row.
 */
export const MAX_CONSTANT_BITS = 65536;
/** Largest logical memory st3d generates: 2^24 words, the host port's field-index width (docs/HOST.md). */
export const MAX_MEMORY_WORDS = 2 ** HOST_INDEX_BITS;

/** Fields that size the design: a capacity problem suggests the largest value of each that would fit. */
const SIZE_FIELDS = ["model.tokens", "model.timesteps", "model.dim", "model.expertHidden", "model.blocks", "model.experts"] as const;
type SizeField = (typeof SIZE_FIELDS)[number];

interface Limit {
  /** true while the (consistent) config is still too large for this limit */
  over: (r: Resolved) => boolean;
  message: string;
}

/** Memories of the same kind share one line: the weight banks st3d_mem_wp0, st3d_mem_wp1 -> st3d_mem_wp<c>, the attention cores' states. */
const memGroup = (module: string) => module.replace(/\d+(_state)?$/, "<c>$1");

/** The limits the planned design exceeds (none for a config that generates). */
function capacityLimits(r: Resolved): Limit[] {
  const plan = planAccelerator(r);
  const limits: Limit[] = [];
  const host = new Set([plan.umem.module, ...plan.ctrl.hostMems.map((h) => h.mem.module)]);
  const seen = new Set<string>();
  for (const m of plan.memories) {
    const group = memGroup(m.module);
    const inGroup = (rr: Resolved) => planAccelerator(rr).memories.filter((x) => memGroup(x.module) === group);
    const what = `memory ${group} (${m.label.replace(/,? (of block|attention core) \d+$/, "")}${group === m.module ? "" : ", one of several alike"})`;
    if (host.has(m.module)) {
      const h = hostFields(m);
      if (h.indexBits <= HOST_INDEX_BITS || seen.has(group)) continue;
      seen.add(group);
      limits.push({
        over: (rr) => inGroup(rr).some((x) => hostFields(x).indexBits > HOST_INDEX_BITS),
        message: `${what}: ${m.depth} words of ${m.width} bits, loaded through the host port, whose field index has ${HOST_INDEX_BITS} bits (docs/HOST.md); it needs ${h.indexBits} (${m.addrBits} address + ${h.fieldBits} field bits)`,
      });
    } else if (m.depth > MAX_MEMORY_WORDS && !seen.has(group)) {
      seen.add(group);
      limits.push({
        over: (rr) => inGroup(rr).some((x) => x.depth > MAX_MEMORY_WORDS),
        message: `${what}: ${m.depth} words; st3d generates logical memories of at most 2^${HOST_INDEX_BITS} words (24-bit addresses, as on the host port)`,
      });
    }
  }
  if (plan.ctrl.hostMems.length + 2 > 2 ** HOST_REGION_BITS)
    limits.push({
      over: (rr) => planAccelerator(rr).ctrl.hostMems.length + 2 > 2 ** HOST_REGION_BITS,
      message: `${plan.ctrl.hostMems.length} host-written memories need more regions than the ${HOST_REGION_BITS}-bit region field of a host address has`,
    });
  if (r.geo.rows > MAX_CONSTANT_BITS)
    limits.push({
      over: (rr) => rr.geo.rows > MAX_CONSTANT_BITS,
      message: `row buffers hold T x 2^ceil(log2 N) = ${r.geo.rows} rows; each expert's routing column has one bit per row and is printed as Verilog constants, which Verilator limits to ${MAX_CONSTANT_BITS} bits (IEEE 1800-2017 §6.9.1)`,
    });
  return limits;
}

/** The user config with one model field set to `v`, every other field as given. */
function withField(u: UserConfig, field: SizeField, v: number): UserConfig {
  return { ...u, model: { ...u.model, [field.slice("model.".length)]: v } };
}

/** Largest value of `field` below its current one for which `limit` no longer applies (other fields as given), or undefined. */
function largestValid(u: UserConfig, field: SizeField, limit: Limit): number | undefined {
  const key = field.slice("model.".length) as keyof UserConfig["model"];
  const cur = u.model[key] as number;
  const m = u.model;
  // candidates: dim a multiple of heads; experts at least topK and the cores given
  const step = field === "model.dim" ? m.heads : 1;
  const lo = field === "model.experts" ? m.topK : step;
  const ok = (v: number) => {
    const uu = withField(u, field, v);
    return ruleProblems(uu).length === 0 && !limit.over(resolve(uu));
  };
  let a = Math.ceil(lo / step);
  let b = Math.floor((cur - 1) / step);
  if (b < a || !ok(a * step)) return undefined;
  while (a < b) {
    const mid = Math.ceil((a + b) / 2);
    if (ok(mid * step)) a = mid;
    else b = mid - 1;
  }
  return a * step;
}

/** What the generated design could not hold: one problem per limit, naming the field to lower and the values that would fit. */
export function capacityProblems(u: UserConfig): ConfigProblem[] {
  return capacityLimits(resolve(u)).map((limit) => {
    const fixes = SIZE_FIELDS.map((f) => [f, largestValid(u, f, limit)] as const).filter((x): x is readonly [SizeField, number] => x[1] !== undefined);
    const field = fixes.length ? fixes[0][0] : "model.tokens";
    return {
      field,
      message: `too large: ${limit.message}`,
      got: u.model[field.slice("model.".length) as keyof UserConfig["model"]],
      valid: fixes.length ? `${fixes.map(([f, v]) => `${f} <= ${v}`).join(", or ")} (each with the other fields as given)` : "a smaller model (fewer tokens, timesteps, channels or experts)",
    };
  });
}

// ------------------------------------------------------------------ all of it

/** Validate an already-parsed document: the schema, then the rules, then the capacity; throws one ConfigError. */
export function validateConfig(input: unknown, source: string): UserConfig {
  if (input === null || typeof input !== "object" || Array.isArray(input))
    throw configError(source, [{ field: "", message: "the top level must be a mapping with name, model, hardware, integration", got: input === undefined ? undefined : input }]);
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) throw configError(source, schemaProblems(parsed.error, input));
  const rules = ruleProblems(parsed.data);
  if (rules.length) throw configError(source, rules);
  const cap = capacityProblems(parsed.data);
  if (cap.length) throw configError(source, cap);
  return parsed.data;
}
