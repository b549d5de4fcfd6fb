/**
 * Golden model of the LIF neuron (SPEC.md §1.1), bit exact.
 *
 *   decayInput = true :  G = W + ((X - W) >> tauShift)
 *   decayInput = false:  G = ((W * (2^tauShift - 1)) >> tauShift) + X
 *   G  = sat_stateBits(G)
 *   S  = fire ">=" ? G >= threshold : G > threshold
 *   W' = S ? (reset "zero" ? 0 : G - threshold) : G
 *
 * `>>` is an arithmetic (floor) shift, also for negative values.
 */
import type { LifUserConfig } from "../../config/schema.ts";
import { asr, sat } from "../../util/bits.ts";

export type LifParams = Pick<LifUserConfig, "threshold" | "tauShift" | "decayInput" | "fire" | "reset" | "stateBits">;

/** One LIF update: state W and input X of one timestep -> spike S and the next state W'. */
export function lifStep(W: number, X: number, p: LifParams): { S: 0 | 1; W: number } {
  let G = p.decayInput ? W + asr(X - W, p.tauShift) : asr(W * (2 ** p.tauShift - 1), p.tauShift) + X;
  G = sat(G, p.stateBits);
  const S: 0 | 1 = (p.fire === ">=" ? G >= p.threshold : G > p.threshold) ? 1 : 0;
  const Wn = S ? (p.reset === "zero" ? 0 : G - p.threshold) : G;
  return { S, W: Wn };
}

/**
 * Run a LIF array over T timesteps. xs[t][i] is the input of neuron i at timestep t;
 * every neuron starts at W = 0. Returns spikes[t][i] and the state after step t, states[t][i].
 */
export function lifRun(xs: number[][], p: LifParams): { spikes: number[][]; states: number[][] } {
  const n = xs.length ? xs[0].length : 0;
  let W = new Array<number>(n).fill(0);
  const spikes: number[][] = [];
  const states: number[][] = [];
  for (const x of xs) {
    if (x.length !== n) throw new Error(`lifRun: ragged input (${x.length} neurons at one timestep, ${n} at the first)`);
    const s = new Array<number>(n);
    const w = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const r = lifStep(W[i], x[i], p);
      s[i] = r.S;
      w[i] = r.W;
    }
    spikes.push(s);
    states.push(w);
    W = w;
  }
  return { spikes, states };
}
