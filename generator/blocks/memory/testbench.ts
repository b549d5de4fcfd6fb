/**
 * Testbench generation for the memory flow: one TB holding several logical memories, each
 * as its wrapper (macro models or flops) side by side with the behavioral ram1r1w, plus the
 * random stimulus and the expected read data (read-first model in TypeScript) per seed.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import { pick, renderFile } from "../../render/render.ts";
import { Prng } from "../../util/prng.ts";
import { writeHexFile } from "../../sim/harness.ts";
import { memoryViews, type MemoryViews } from "./macros.ts";
import { renderRam1r1w, type LogicalMemory } from "./ram1r1w.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface MemTbInstance {
  mem: LogicalMemory;
  /** random cycles after the (optional) fill */
  ops: number;
}

/** Non-preloaded memories are first filled by D full-mask writes, so every read is defined. */
const fillOps = (m: LogicalMemory) => (m.preload ? 0 : m.depth);

function layout(m: LogicalMemory) {
  const W = m.width;
  const A = m.addrBits;
  return { wdataLo: W, wdataHi: 2 * W - 1, waddrLo: 2 * W, waddrHi: 2 * W + A - 1, weBit: 2 * W + A, raddrLo: 2 * W + A + 1, raddrHi: 2 * W + 2 * A, reBit: 2 * W + 2 * A + 1, stimBits: 2 * W + 2 * A + 2 };
}

export const refModule = (m: LogicalMemory) => `${m.module}_ref`;

/** Every file of the TB: the memory views, the reference models and the TB itself. */
export function renderMemTb(r: Resolved, tbModule: string, insts: MemTbInstance[]): { files: GeneratedFile[]; views: MemoryViews } {
  const views = memoryViews(
    r,
    insts.map((i) => i.mem),
  );
  const refs = insts.map((i) => renderRam1r1w(r, { ...i.mem, module: refModule(i.mem) }, "tb"));
  const cycles = Math.max(...insts.map((i) => fillOps(i.mem) + i.ops)) + 10;
  const tb: GeneratedFile = {
    path: `${tbModule}.v`,
    kind: "tb",
    content: renderFile(path.join(here, "memory_tb.v.hbs"), {
      tbModule,
      timeoutNs: cycles * 10 * 4,
      insts: insts.map((i) => {
        const p = views.plans.find((q) => q.mem.module === i.mem.module)!;
        const l = layout(i.mem);
        return {
          module: i.mem.module,
          refModule: refModule(i.mem),
          what: `${i.mem.depth}x${i.mem.width}, ${p.style}${p.style === "flops" ? "" : `, banks ${p.banks.map((b) => b.depth).join("+")} x columns ${p.columns.map((c) => c.width).join("+")}`}`,
          hold: i.mem.ports === "1r1w",
          addrMsb: i.mem.addrBits - 1,
          widthMsb: i.mem.width - 1,
          stimMsb: l.stimBits - 1,
          stimLast: fillOps(i.mem) + i.ops - 1,
          ...pick(l, "wdataLo", "wdataHi", "waddrLo", "waddrHi", "weBit", "raddrLo", "raddrHi", "reBit"),
        };
      }),
    }),
  };
  return { files: [...views.files, ...refs, tb], views };
}

function randBits(g: Prng, w: number): bigint {
  let v = 0n;
  for (let b = 0; b < w; b += 16) v = (v << 16n) | BigInt(g.int(0, 0xffff));
  return v & ((1n << BigInt(w)) - 1n);
}

const hex = (v: bigint, w: number) => v.toString(16).padStart(Math.ceil(w / 4), "0");

/**
 * Write m<i>.stim.hex / .exp.hex / .meta.hex into dataDir and each preloaded memory's image
 * into simDir (the simulator's working directory, where the wrappers look for it).
 * Returns the number of reads per instance.
 */
export function writeMemStimulus(dataDir: string, simDir: string, insts: MemTbInstance[], seed: number): number[] {
  fs.mkdirSync(dataDir, { recursive: true });
  const g = new Prng(seed);
  return insts.map((inst, k) => {
    const m = inst.mem;
    const W = m.width;
    const full = (1n << BigInt(W)) - 1n;
    const mem: bigint[] = new Array<bigint>(m.depth).fill(0n);
    if (m.preload) {
      for (let a = 0; a < m.depth; a++) mem[a] = randBits(g, W);
      writeHexFile(path.join(simDir, m.preload), mem.map((v) => hex(v, W)));
    }
    const stim: string[] = [];
    const exp: string[] = [];
    const l = layout(m);
    const recent: number[] = [];
    const addr = () => {
      const u = g.next();
      if (u < 0.25) return g.int(Math.max(0, m.depth - 40), m.depth - 1); // the last (smallest) banks
      if (u < 0.4 && recent.length) return g.pick(recent);
      return g.int(0, m.depth - 1);
    };
    const op = (re: boolean, ra: number, we: boolean, wa: number, wd: bigint, wm: bigint) => {
      if (re) exp.push(hex(mem[ra], W)); // read-first: the word before this cycle's write
      if (we) {
        mem[wa] = (wd & wm) | (mem[wa] & ~wm & full);
        recent.push(wa);
        if (recent.length > 8) recent.shift();
      }
      const word =
        (BigInt(re ? 1 : 0) << BigInt(l.reBit)) |
        (BigInt(ra) << BigInt(l.raddrLo)) |
        (BigInt(we ? 1 : 0) << BigInt(l.weBit)) |
        (BigInt(wa) << BigInt(l.waddrLo)) |
        (wd << BigInt(l.wdataLo)) |
        wm;
      stim.push(hex(word, l.stimBits));
    };
    for (let a = 0; a < fillOps(m); a++) op(false, 0, true, a, randBits(g, W), full);
    for (let i = 0; i < inst.ops; i++) {
      let re = g.bit(0.6) === 1;
      let we = g.bit(0.55) === 1;
      if (m.ports === "1rw" && re && we) (g.bit(0.5) ? (re = false) : (we = false));
      const wa = addr();
      const ra = we && g.bit(0.25) ? wa : addr();
      const u = g.next();
      const wm = u < 0.25 ? full : u < 0.4 ? 0n : randBits(g, W);
      op(re, re ? ra : g.int(0, m.depth - 1), we, we ? wa : g.int(0, m.depth - 1), randBits(g, W), wm);
    }
    const reads = exp.length;
    while (exp.length < stim.length) exp.push(hex(0n, W));
    writeHexFile(path.join(dataDir, `m${k}.stim.hex`), stim);
    writeHexFile(path.join(dataDir, `m${k}.exp.hex`), exp);
    writeHexFile(path.join(dataDir, `m${k}.meta.hex`), [reads.toString(16).padStart(8, "0")]);
    return reads;
  });
}
