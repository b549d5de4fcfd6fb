/**
 * Testbench generation for lifArray: renders a TB holding several arrays (one per
 * LIF variant) and writes, per seed, stimulus and the golden model's expected spikes.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { pick, renderFile } from "../../render/render.ts";
import { maxS, minS } from "../../util/bits.ts";
import { Prng } from "../../util/prng.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { packLanes } from "../../util/lanes.ts";
import { lifStep } from "./golden.ts";
import { lifArrayContext, renderLifArray, renderLifArrayMemModel, type LifArrayParams } from "./lifArray.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface LifTbInstance {
  p: LifArrayParams;
  label: string;
  /** timesteps to run */
  T: number;
}

/**
 * Which (t, group) pairs are updated.  Arrays with valid bits (trackValid) are fed a sparse,
 * seed-independent pattern (like LIF_h, whose token is not routed at every timestep) and
 * never get in_first; the others update every word at every timestep.
 */
function updated(inst: LifTbInstance, t: number, g: number): boolean {
  if (!inst.p.trackValid) return true;
  return ((t * 7 + g * 3) % 5) < 3 || (t === inst.T - 1 && g === 0);
}

function nEvents(inst: LifTbInstance): number {
  let n = 0;
  for (let t = 0; t < inst.T; t++) for (let g = 0; g < inst.p.depth; g++) if (updated(inst, t, g)) n++;
  return n;
}

function layout(inst: LifTbInstance) {
  const { p } = inst;
  const xBus = p.lanes * p.xBits;
  const firstBit = xBus + p.addrBits;
  const gapLsb = firstBit + 1;
  const stimBits = gapLsb + 4;
  return { xBus, addrLo: xBus, addrHi: xBus + p.addrBits - 1, firstBit, gapLsb, stimBits, expBits: p.addrBits + p.lanes, nStim: nEvents(inst) };
}

export function renderLifTb(r: Resolved, tbModule: string, insts: LifTbInstance[]): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  for (const i of insts) files.push(...renderLifArray(r, i.p), { ...renderLifArrayMemModel(r, i.p), kind: "sim" as const });
  const ctx = {
    tbModule,
    timeoutNs: 10 * 1000 * Math.max(...insts.map((i) => i.T * i.p.depth * 20 + 100)),
    insts: insts.map((i) => {
      const l = layout(i);
      return {
        ...pick(lifArrayContext(i.p), "module", "memModule", "lanes", "lanesMsb", "addrMsb", "xBusMsb", "wBusMsb", "trackValid"),
        label: i.label,
        stimMsb: l.stimBits - 1,
        stimLast: l.nStim - 1,
        expMsb: l.expBits - 1,
        expLast: l.nStim - 1,
        expCount: l.nStim,
        gapLsb: l.gapLsb,
        firstBit: l.firstBit,
        addrHi: l.addrHi,
        addrLo: l.addrLo,
      };
    }),
  };
  files.push({ path: `${tbModule}.v`, kind: "tb", content: renderFile(path.join(here, "lifArray_tb.v.hbs"), ctx) });
  return files;
}

export type XStyle = "random" | "extreme" | "zeros" | "small";

/**
 * Write stimulus and expected files for one seed.  Inputs per timestep cover every
 * neuron group in a random order (so the same word can be hit back to back), with
 * random idle gaps.  Returns the number of spikes expected (to check the test is not vacuous).
 */
export function writeLifStimulus(dir: string, insts: LifTbInstance[], seed: number, style: XStyle): { spikes: number; events: number } {
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Prng(seed);
  let spikes = 0;
  let events = 0;
  insts.forEach((inst, idx) => {
    const { p } = inst;
    const l = layout(inst);
    const state = new Array<number>(p.depth * p.lanes).fill(0);
    const touched = new Array<boolean>(p.depth).fill(false);
    const stim: string[] = [];
    const exp: string[] = [];
    const xlo = minS(p.xBits);
    const xhi = maxS(p.xBits);
    const genX = (): number => {
      switch (style) {
        case "zeros":
          return 0;
        case "extreme":
          return rng.pick([xlo, xhi, xlo + 1, xhi - 1, 0, p.threshold, p.threshold - 1, p.threshold + 1].filter((v) => v >= xlo && v <= xhi));
        case "small": {
          const span = Math.min(xhi, Math.max(4, Math.abs(p.threshold) * 3));
          return rng.int(Math.max(xlo, -span), Math.min(xhi, span));
        }
        default:
          return rng.next() < 0.15 ? rng.pick([xlo, xhi]) : rng.int(xlo, xhi);
      }
    };
    for (let t = 0; t < inst.T; t++) {
      const order = rng.shuffle([...Array(p.depth).keys()].filter((g) => updated(inst, t, g)));
      for (const g of order) {
        const first = p.trackValid ? !touched[g] : t === 0;
        touched[g] = true;
        const xs: number[] = [];
        const sp: number[] = [];
        for (let ln = 0; ln < p.lanes; ln++) {
          const x = genX();
          xs.push(x);
          const n = g * p.lanes + ln;
          const res = lifStep(first ? 0 : state[n], x, p);
          state[n] = res.W;
          sp.push(res.S);
          if (n < p.neurons) spikes += res.S;
        }
        const gap = rng.next() < 0.7 ? 0 : rng.int(1, 3);
        // {gap[3:0], first, addr, x_lanes}
        const xBus = packLanes(xs, p.xBits);
        const word = (BigInt(gap) << BigInt(l.gapLsb)) | (BigInt(first && !p.trackValid ? 1 : 0) << BigInt(l.firstBit)) | (BigInt(g) << BigInt(l.addrLo)) | xBus;
        stim.push(word.toString(16));
        const spBits = sp.reduce((a, s, i) => a | (BigInt(s) << BigInt(i)), 0n);
        exp.push(((BigInt(g) << BigInt(p.lanes)) | spBits).toString(16));
        events++;
      }
    }
    writeHexFile(path.join(dir, `lif${idx}.stim.hex`), stim);
    writeHexFile(path.join(dir, `lif${idx}.exp.hex`), exp);
  });
  return { spikes, events };
}
