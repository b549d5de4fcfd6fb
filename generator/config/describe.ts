/** Human-readable and JSON views of a resolved config (`st3d describe`, resolved.json). */
import type { Resolved } from "./resolve.ts";
import { LIF_FAMILIES } from "./resolve.ts";

export function resolvedObject(r: Resolved) {
  return {
    name: r.name,
    generator: `st3d ${r.version}`,
    configHash: r.hash,
    model: { T: r.T, N: r.N, D: r.D, H: r.H, d: r.d, L: r.L, E: r.E, k: r.k, F: r.F, attention: r.attention, routing: r.routing },
    widths: {
      weightBits: r.weightBits,
      biasBits: r.biasBits,
      accBits: r.accBits,
      residBits: r.residBits,
      attnShift: r.attnShift,
      linearSumBitsD: r.linearSumBits(r.D),
      linearSumBitsF: r.linearSumBits(r.F),
      routerSumBits: r.routerSumBits,
    },
    lif: Object.fromEntries(LIF_FAMILIES.map((f) => [f, r.lif[f]])),
    hardware: r.hw,
    integration: r.integration,
    geometry: r.geo,
    user: r.user,
  };
}

export function resolvedJson(r: Resolved): string {
  return JSON.stringify(resolvedObject(r), null, 2) + "\n";
}

/** Rows of (parameter, value, meaning) for `st3d describe`. */
export function describeRows(r: Resolved): [string, string, string][] {
  const rows: [string, string, string][] = [
    ["name", r.name, "module-name prefix"],
    ["configHash", r.hash, "sha256 of the defaulted config (in every file header)"],
    ["T", String(r.T), "timesteps"],
    ["N", String(r.N), "tokens"],
    ["D", String(r.D), "model width"],
    ["H / d", `${r.H} / ${r.d}`, "heads / channels per head"],
    ["L", String(r.L), "blocks"],
    ["E / k", `${r.E} / ${r.k}`, "experts / top-k"],
    ["F", String(r.F), "expert hidden width"],
    ["attention", r.attention, "ssa (Spikformer) or sdsa (Spike-driven)"],
    ["routing", r.routing, "per-step or per-token"],
    ["T*N", String(r.TN), "activation rows (t, n)"],
    ["row buffer rows", String(r.geo.rows), "T << nBits: a row's address is {t, n} (t field tAddrBits, n field nBits)"],
    ["tAddrBits / nBits", `${r.geo.tAddrBits} / ${r.geo.nBits}`, "row address fields (tAddrBits 0 when T = 1)"],
    ["tilesD / tilesF", `${r.geo.tilesD} / ${r.geo.tilesF}`, "words of pool lanes per D- / F-wide row (output tiles)"],
    ["umem", `${r.geo.umemDepth} x ${r.geo.umemWidth}`, "residual stream: words x bits (word row*tilesD + j)"],
    ["weight/bias bits", `${r.weightBits} / ${r.biasBits}`, "signed widths"],
    ["acc/resid bits", `${r.accBits} / ${r.residBits}`, "saturation of linear outputs / residual stream"],
    ["linear sum bits (fan-in D)", String(r.linearSumBits(r.D)), "exact accumulator width, derived"],
    ["linear sum bits (fan-in F)", String(r.linearSumBits(r.F)), "exact accumulator width, derived"],
    ["router sum bits", String(r.routerSumBits), "exact per-token score sum over T, derived"],
  ];
  for (const f of LIF_FAMILIES) {
    const l = r.lif[f];
    rows.push([`lif.${f}`, `thr ${l.threshold}, tau>>${l.tauShift}, ${l.decayInput ? "decayInput" : "no decayInput"}, fire ${l.fire}, reset ${l.reset}, ${l.stateBits}b`, `input X ${l.xBits} bits`]);
  }
  rows.push(
    ["synapticLanes", String(r.hw.synapticLanes), "lane budget: synaptic pool + router engine"],
    ["pool lanes", `${r.hw.poolLanes} (${Math.ceil(r.D / r.hw.poolLanes)} tiles of D, ${Math.ceil(r.F / r.hw.poolLanes)} of F)`, "shared pool: every q, k, v, o, fc1, fc2 layer, derived"],
    ["router lanes", `${r.hw.routerLanes} (${Math.ceil(r.E / r.hw.routerLanes)} tile(s))`, "router engine, derived"],
    ["tokenGroup", String(r.hw.tokenGroup), "rows sharing one weight fetch (clamped to T*N)"],
    ["attnCores", String(r.hw.attnCores), "physical attention cores"],
    ["macroMinBits", String(r.hw.macroMinBits), "memories below this are flip-flops"],
    r.hw.weights.onChip
      ? ["weights", "on chip", "pool weights in one bank per block, host-written (hardware.weightsOnChip)"]
      : [
          "weights",
          `off chip: buffer 2 x ${r.hw.weights.halfDepth} x ${r.hw.weights.wordBits} bits, ${r.hw.weights.beatBits}-bit beats (${r.hw.weights.beatsPerWord} per word, +${(100 * r.hw.weights.overhead).toFixed(1)}%)`,
          `streamed through wm_* (largest layer ${r.hw.weights.largestLayer.name}: ${r.hw.weights.largestLayer.words} words)`,
        ],
    ["integration.mode", r.integration.mode, "2D or how the two dies split the design"],
    ["bond pitch", `${r.integration.bondPitchUm} um`, "hybrid-bond pitch"],
  );
  return rows;
}

export function describeTable(r: Resolved): string {
  const rows = describeRows(r);
  const w0 = Math.max(...rows.map((x) => x[0].length), 9);
  const w1 = Math.max(...rows.map((x) => x[1].length), 5);
  const line = (a: string, b: string, c: string) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`;
  return [line("parameter", "value", "meaning"), line("-".repeat(w0), "-".repeat(w1), "-------"), ...rows.map((x) => line(...x))].join("\n") + "\n";
}
