/**
 * Golden model of the top-k router (SPEC.md §1.3 "topk"): larger score first,
 * equal scores -> lower expert index wins, binary gates, no capacity limit.
 */

/** The k selected expert indices, best first (ties: lower index first). */
export function topk(z: number[], k: number): number[] {
  if (!Number.isInteger(k) || k < 0 || k > z.length) throw new Error(`topk: k = ${k} must be in 0..${z.length}`);
  const idx = z.map((_, i) => i);
  idx.sort((a, b) => (z[b] !== z[a] ? z[b] - z[a] : a - b));
  return idx.slice(0, k);
}

/** 0/1 mask of length z.length with a 1 at every expert topk(z, k) selects. */
export function selMask(z: number[], k: number): number[] {
  const m = new Array<number>(z.length).fill(0);
  for (const e of topk(z, k)) m[e] = 1;
  return m;
}

/**
 * Route every (t, n): zs is [T][N][E] router scores, result is the [T][N][E] 0/1 selection.
 * per-step : rank zs[t][n] for every (t, n).
 * per-token: rank the exact (unsaturated) sum over t of zs[t][n] once per token; every t of
 *            token n uses the same experts.
 */
export function route(zs: number[][][], k: number, routing: "per-step" | "per-token"): number[][][] {
  const T = zs.length;
  if (T === 0) return [];
  const N = zs[0].length;
  if (routing === "per-step") return zs.map((zt) => zt.map((z) => selMask(z, k)));
  const masks: number[][] = [];
  for (let n = 0; n < N; n++) {
    const E = zs[0][n].length;
    const sum = new Array<number>(E).fill(0);
    for (let t = 0; t < T; t++) for (let e = 0; e < E; e++) sum[e] += zs[t][n][e];
    masks.push(selMask(sum, k));
  }
  return zs.map(() => masks.map((m) => m.slice()));
}

/**
 * The selection rule as the hardware computes it (all-pairs rank counting): expert e is
 * selected iff fewer than k experts j beat it, where j beats e iff z[j] > z[e] or
 * (z[j] == z[e] and j < e).  Must equal selMask(z, k) for every input (tested).
 */
export function rankSelect(z: number[], k: number): number[] {
  if (!Number.isInteger(k) || k < 0 || k > z.length) throw new Error(`rankSelect: k = ${k} must be in 0..${z.length}`);
  return z.map((ze, e) => {
    let beaten = 0;
    for (let j = 0; j < z.length; j++) if (z[j] > ze || (z[j] === ze && j < e)) beaten++;
    return beaten < k ? 1 : 0;
  });
}
