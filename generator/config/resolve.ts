/**
 * Resolved configuration: the user config with every default applied plus
 * every derived width, depth and count, computed here in TypeScript.
 * Templates never compute; they print fields of this object (or of a block's
 * own params derived from it).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, parseConfig } from "./load.ts";
import type { LifUserConfig, UserConfig, UserConfigInput } from "./schema.ts";
import { clog2, idxBits, maxS, minS, signedBitsFor } from "../util/bits.ts";

export type LifFamily = "shortcut" | "qkv" | "attn" | "hidden";
export const LIF_FAMILIES: LifFamily[] = ["shortcut", "qkv", "attn", "hidden"];

export interface ResolvedLif extends LifUserConfig {
  family: LifFamily;
  /** signed width of the input X this family receives */
  xBits: number;
}

export interface Resolved {
  user: UserConfig;
  name: string;
  version: string;
  /** sha256 (first 16 hex digits) of the canonical JSON of the defaulted user config */
  hash: string;
  T: number;
  N: number;
  D: number;
  H: number;
  d: number;
  L: number;
  E: number;
  k: number;
  F: number;
  /** tokens x timesteps, the rows of every activation matrix */
  TN: number;
  attention: "ssa" | "sdsa";
  routing: "per-step" | "per-token";
  weightBits: number;
  biasBits: number;
  accBits: number;
  residBits: number;
  attnShift: number;
  lif: Record<LifFamily, ResolvedLif>;
  /** exact width of a linear layer's internal sum for fan-in `fanIn` (bias + fanIn weights) */
  linearSumBits: (fanIn: number) => number;
  /** width of a per-token router score sum over T timesteps (exact, not saturated) */
  routerSumBits: number;
  hw: {
    /** the lane budget (hardware.synapticLanes) */
    synapticLanes: number;
    /** P: lanes of the synaptic pool (laneSplit) */
    poolLanes: number;
    /** lanes of the router engine (laneSplit) */
    routerLanes: number;
    tokenGroup: number;
    lifLanes: number;
    attnCores: number;
    macroMinBits: number;
    clockMHz: number;
  };
  integration: UserConfig["integration"];
  bits: { T: number; N: number; TN: number; D: number; H: number; E: number; F: number; L: number };
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const ST3D_VERSION: string = JSON.parse(fs.readFileSync(path.resolve(here, "../../package.json"), "utf8")).version;

/** Canonical JSON: keys sorted, so the hash does not depend on key order in the file. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

export function resolve(user: UserConfig): Resolved {
  const m = user.model;
  const problems: string[] = [];
  const attnCores = user.hardware.attnCores ?? m.heads;
  if (attnCores > m.heads)
    problems.push(`hardware.attnCores: ${attnCores} cores for ${m.heads} heads would leave cores idle; use 1..${m.heads} (model.heads)`);
  const lanes = laneSplit(user.hardware.synapticLanes, m.dim, m.expertHidden, m.experts);
  if (user.integration.f2fRegisters && user.integration.mode !== "2d")
    problems.push(
      `integration.f2fRegisters: a register stage on each side of the bond adds 2 cycles to every cross-tier signal, so the tiers would not be cycle-equivalent to the 2D top (docs/3D.md); use false with integration.mode '${user.integration.mode}'`,
    );
  const TN = m.timesteps * m.tokens;
  if (problems.length) throw new ConfigError(problems.length === 1 ? `invalid config: ${problems[0]}` : `invalid config:\n  ${problems.join("\n  ")}`, problems);

  const xBitsOf: Record<LifFamily, number> = { shortcut: m.residBits, qkv: m.accBits, attn: m.accBits, hidden: m.accBits };
  const lif = Object.fromEntries(LIF_FAMILIES.map((f) => [f, { ...m.lif[f], family: f, xBits: xBitsOf[f] }])) as Record<LifFamily, ResolvedLif>;

  const linearSumBits = (fanIn: number) =>
    signedBitsFor(minS(m.biasBits) + fanIn * minS(m.weightBits), maxS(m.biasBits) + fanIn * maxS(m.weightBits));

  return {
    user,
    name: user.name,
    version: ST3D_VERSION,
    hash: crypto.createHash("sha256").update(canonicalJson(user)).digest("hex").slice(0, 16),
    T: m.timesteps,
    N: m.tokens,
    D: m.dim,
    H: m.heads,
    d: m.dim / m.heads,
    L: m.blocks,
    E: m.experts,
    k: m.topK,
    F: m.expertHidden,
    TN,
    attention: m.attention,
    routing: m.routing,
    weightBits: m.weightBits,
    biasBits: m.biasBits,
    accBits: m.accBits,
    residBits: m.residBits,
    attnShift: m.attnShift,
    lif,
    linearSumBits,
    routerSumBits: signedBitsFor(m.timesteps * minS(m.accBits), m.timesteps * maxS(m.accBits)),
    hw: {
      // more lanes than the widest layer, or a token group larger than T*N, would only idle
      // hardware: clamp (documented in the config reference) rather than refuse, so a config
      // that leaves hardware at its defaults works for every model shape.
      synapticLanes: user.hardware.synapticLanes,
      poolLanes: lanes.pool,
      routerLanes: lanes.router,
      tokenGroup: Math.min(user.hardware.tokenGroup, TN),
      lifLanes: user.hardware.lifLanes,
      attnCores,
      macroMinBits: user.hardware.macroMinBits,
      clockMHz: user.hardware.clockMHz,
    },
    integration: user.integration,
    bits: {
      T: idxBits(m.timesteps),
      N: idxBits(m.tokens),
      TN: idxBits(TN),
      D: idxBits(m.dim),
      H: idxBits(m.heads),
      E: idxBits(m.experts),
      F: idxBits(m.expertHidden),
      L: idxBits(m.blocks),
    },
  };
}

/**
 * The lane budget split (docs/ARCHITECTURE.md, "Lane budget"):
 *  - the router engine gets one lane per expert score, R = min(E, floor(budget / 2)) (with
 *    R < E the E scores of a row take ceil(E / R) tiles);
 *  - the synaptic pool gets the rest, at most max(D, F) (a wider pool would only idle), and is
 *    then trimmed to the fewest lanes that keep the same number of output tiles for width D
 *    and for width F: a lane that shortens no layer is not built.  E.g. D = F = 384 with the
 *    default budget 84: R = 4, 80 lanes would take ceil(384/80) = 5 tiles, and so do 77, so
 *    P = 77 (81 lanes in all); a budget of 68 gives P = 64 (6 tiles).
 */
export function laneSplit(budget: number, D: number, F: number, E: number): { pool: number; router: number } {
  const router = Math.max(1, Math.min(E, Math.floor(budget / 2)));
  const pmax = Math.max(1, Math.min(budget - router, Math.max(D, F)));
  const tD = Math.ceil(D / pmax);
  const tF = Math.ceil(F / pmax);
  let pool = pmax;
  while (pool > 1 && Math.ceil(D / (pool - 1)) === tD && Math.ceil(F / (pool - 1)) === tF) pool--;
  return { pool, router };
}

/** Convenience for tests: validate + resolve a partial config object. */
export function resolveInput(input: UserConfigInput, source = "(inline)"): Resolved {
  return resolve(parseConfig(input, source));
}

export { clog2 };
