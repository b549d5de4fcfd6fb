/**
 * Golden models of the two spiking self-attention variants (SPEC.md §1.3), for ONE timestep.
 * Q, K, V are [N][D] spike matrices (0/1) of that timestep; attention mixes tokens of the
 * same timestep only.
 */
import { asr, sat } from "../../util/bits.ts";
import { lifStep, type LifParams } from "../lifArray/golden.ts";

/**
 * Spikformer SSA, per head h (channels [h*d, (h+1)*d), d = D/H), query i, key j:
 *   A[i][j] = popcount(Q[i][head] & K[j][head])          (0..d)
 *   Y[i][c] = sum_j A[i][j] * V[j][h*d + c]
 *   O[i][h*d + c] = LIF_attn( sat_accBits(Y[i][c] >> attnShift) )
 * stateAttn is the [N][D] LIF_attn membrane (one per token and channel), carried across
 * timesteps by the caller; it is updated in place.
 */
export function ssa(
  Q: number[][],
  K: number[][],
  V: number[][],
  H: number,
  attnShift: number,
  accBits: number,
  lifAttn: LifParams,
  stateAttn: number[][],
): number[][] {
  const N = Q.length;
  const D = N ? Q[0].length : 0;
  if (D % H !== 0) throw new Error(`ssa: D = ${D} is not a multiple of H = ${H}`);
  const d = D / H;
  const O: number[][] = [];
  for (let i = 0; i < N; i++) O.push(new Array<number>(D).fill(0));
  // Active channels of K and V per token, per head: skip zeros.
  const Y = new Array<number>(d);
  for (let h = 0; h < H; h++) {
    const base = h * d;
    for (let i = 0; i < N; i++) {
      Y.fill(0);
      const qi = Q[i];
      for (let j = 0; j < N; j++) {
        const kj = K[j];
        let A = 0;
        for (let c = 0; c < d; c++) if (qi[base + c] && kj[base + c]) A++;
        if (A === 0) continue;
        const vj = V[j];
        for (let c = 0; c < d; c++) if (vj[base + c]) Y[c] += A;
      }
      const st = stateAttn[i];
      for (let c = 0; c < d; c++) {
        const x = sat(asr(Y[c], attnShift), accBits);
        const r = lifStep(st[base + c], x, lifAttn);
        st[base + c] = r.W;
        O[i][base + c] = r.S;
      }
    }
  }
  return O;
}

/**
 * Spike-driven Transformer SDSA: kv[c] = OR over j of (K[j][c] & V[j][c]); O[i][c] = Q[i][c] & kv[c].
 * No LIF, no state. H is accepted for a uniform signature and not used (SDSA is per channel).
 */
export function sdsa(Q: number[][], K: number[][], V: number[][], _H?: number): number[][] {
  const N = Q.length;
  const D = N ? Q[0].length : 0;
  const kv = new Array<number>(D).fill(0);
  for (let j = 0; j < N; j++) for (let c = 0; c < D; c++) if (K[j][c] && V[j][c]) kv[c] = 1;
  return Q.map((q) => q.map((x, c) => (x && kv[c] ? 1 : 0)));
}
