/**
 * Pareto front: the points no other point beats.  p dominates q when p is at least as good as
 * q in every objective and strictly better in one.  Points with equal objective vectors do not
 * dominate each other (both stay on the front).  Only points with a value for every objective
 * take part.  O(n² · objectives): sweeps are hundreds of points, not millions.
 */
import type { Objective } from "./metrics.ts";

export function dominates(a: number[], b: number[], goals: Objective["goal"][]): boolean {
  let better = false;
  for (let i = 0; i < goals.length; i++) {
    const d = goals[i] === "minimize" ? b[i] - a[i] : a[i] - b[i];
    if (d < 0) return false;
    if (d > 0) better = true;
  }
  return better;
}

/** Indices (into `vectors`) of the non-dominated vectors; null vectors never are. */
export function paretoFront(vectors: (number[] | null)[], goals: Objective["goal"][]): number[] {
  const out: number[] = [];
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    if (!v) continue;
    if (!vectors.some((w, j) => j !== i && w !== null && dominates(w, v, goals))) out.push(i);
  }
  return out;
}
