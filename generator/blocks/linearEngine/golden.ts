/**
 * Golden model of the spike-driven linear layer (SPEC.md §1.2), bit exact:
 *   Lin(s)[o] = sat_accBits( bias[o] + sum over c with s[c] = 1 of weight[o][c] )
 * The sum is exact (JS numbers are exact below 2^53); one saturation at the end.
 */
import { sat } from "../../util/bits.ts";

/** Indices c with s[c] != 0. */
export function activeIndices(s: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let c = 0; c < s.length; c++) if (s[c]) out.push(c);
  return out;
}

/** One linear layer on one spike vector. weight is [out][in], s has length in, bias has length out. */
export function linear(s: number[], weight: number[][], bias: number[], accBits: number): number[] {
  const act = activeIndices(s);
  const out = new Array<number>(weight.length);
  for (let o = 0; o < weight.length; o++) {
    const row = weight[o];
    let acc = bias[o];
    for (let a = 0; a < act.length; a++) acc += row[act[a]];
    out[o] = sat(acc, accBits);
  }
  return out;
}

/** Work of one linear layer on one spike vector: synaptic ops = (#input spikes) x (output width). */
export function linearStats(s: ArrayLike<number>, outWidth: number): { inputSpikes: number; syn: number } {
  let n = 0;
  for (let c = 0; c < s.length; c++) if (s[c]) n++;
  return { inputSpikes: n, syn: n * outWidth };
}
