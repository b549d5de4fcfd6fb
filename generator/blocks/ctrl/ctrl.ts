/**
 * ctrl — host interface, sequencer, residual-stream (umem) multiplexer and performance
 * counters of the accelerator.
 *
 * Host port: valid/ready requests {write, addr[31:0], wdata[31:0]}; a read answers with
 * host_resp_valid/host_resp_rdata two cycles after it is accepted (no new request is
 * accepted meanwhile); writes are accepted back to back.
 * Address map: addr[31:24] = region, addr[23:0] = index of a 32-bit field.
 *   region 0: registers (REG below);
 *   region 1: umem, the residual stream (U0 in, U_L out), readable and writable while idle;
 *   region 2+i: host-written memory i (weights and biases), write-only, while idle (a write
 *   while busy is dropped: the dataflow unit reads these memories, some through one port).
 * Field index of memory word w, field f (bits [32f, 32f+31] of the word) = (w << fieldBits) | f.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Resolved } from "../../config/resolve.ts";
import type { LogicalMemory } from "../memory/ram1r1w.ts";
import { renderVerilog } from "../../render/render.ts";
import { ulit } from "../../render/verilog.ts";
import type { Block } from "../block.ts";
import { clog2, idxBits } from "../../util/bits.ts";
import type { GeneratedFile } from "../../core/files.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Register indices of region 0 (32-bit each; 64-bit counters as lo, hi). */
export const REG = {
  CTRL: 0, // write bit0 = 1: start (ignored while busy)
  STATUS: 1, // bit0 busy, bit1 done (set at the end of an inference, cleared by start)
  ID: 2, // low 32 bits of the config hash
  CYCLES: 4, // 64-bit: cycles from start to done
  SYN: 6, // 64-bit: synaptic operations (all linear layers, routed experts only)
  SPIKES: 8, // 64-bit: spikes of LIF_a, LIF_q, LIF_k, LIF_v (as the reference vectors count them)
  SPIKES_O: 10, // 64-bit: attention output spikes
  SPIKES_S1: 12, // 64-bit: LIF_m spikes
  SPIKES_H: 14, // 64-bit: LIF_h spikes
  ROUTED: 16, // 64-bit: routed (t, n, e) triples
  SYN_ATTN: 18, // 64-bit: synaptic ops of q, k, v, o
  SYN_MOE: 20, // 64-bit: synaptic ops of router, fc1, fc2
  SYN_ROUTER: 22, // 64-bit: synaptic ops of the router engine
  WBEATS: 24, // 64-bit: off-chip weight beats received (bytes = WBEATS x offchipBeatBits / 8); weightsOnChip false only
  WBURSTS: 26, // 64-bit: off-chip weight bursts (AR handshakes); weightsOnChip false only
  WWAIT: 28, // 64-bit: cycles the pool's weight read waited for a word from off-chip (rd_re && !rd_gnt); weightsOnChip false only
  CLASS_BASE: 0x40, // 40-bit (lo, hi) cycles of perf class c of the pool (engine 0) / router (engine 1) at CLASS_BASE + 2*(8*engine + c)
  PHASE_BASE: 0x100, // 32-bit busy cycles of (block b, phase p = 1..9) at PHASE_BASE + b*phases + p - 1
} as const;

/** Width of the host field index (addr[23:0]) and of the region (addr[31:24]): docs/HOST.md. */
export const HOST_INDEX_BITS = 24;
export const HOST_REGION_BITS = 8;

/** The 64-bit counters of region 0 (low word at REG[name], high word at REG[name] + 1) and the ctrl signal each reads. */
export const COUNTER_REGS: readonly { reg: keyof typeof REG; sig: string }[] = [
  { reg: "CYCLES", sig: "cycles" },
  { reg: "SYN", sig: "syn" },
  { reg: "SPIKES", sig: "spk" },
  { reg: "SPIKES_O", sig: "spk_o" },
  { reg: "SPIKES_S1", sig: "spk_s1" },
  { reg: "SPIKES_H", sig: "spk_h" },
  { reg: "ROUTED", sig: "routed" },
  { reg: "SYN_ATTN", sig: "syn_a" },
  { reg: "SYN_MOE", sig: "syn_m" },
  { reg: "SYN_ROUTER", sig: "syn_r" },
];

/** The counters of the off-chip weight stream (hardware.weightsOnChip false): the ctrl inputs ws_beat, ws_burst, ws_wait count while busy. */
export const STREAM_COUNTER_REGS: readonly { reg: keyof typeof REG; sig: string }[] = [
  { reg: "WBEATS", sig: "w_beats" },
  { reg: "WBURSTS", sig: "w_bursts" },
  { reg: "WWAIT", sig: "w_wait" },
];

/** How a memory is seen through the host port: ceil(width/32) 32-bit fields, index (word << fieldBits) | field. */
export function hostFields(mem: Pick<LogicalMemory, "width" | "addrBits">): { fields: number; fieldBits: number; indexBits: number } {
  const fields = Math.ceil(mem.width / 32);
  const fieldBits = clog2(fields);
  return { fields, fieldBits, indexBits: mem.addrBits + fieldBits };
}

export interface HostMemory {
  mem: LogicalMemory;
  /** net-name prefix of the write port driven by ctrl */
  prefix: string;
  region: number;
  fields: number;
  fieldBits: number;
}

export interface CtrlParams {
  module: string;
  L: number;
  blockBits: number;
  idLow: number;
  umem: HostMemory;
  hostMems: HostMemory[];
  /** names of the dataflow phases 1..phases (counters per block) */
  phaseNames: readonly string[];
  phases: number;
  /** width of a phase code within the counter index (codes 1..phases) */
  phaseBits: number;
  counterIdxBits: number;
  /** width of the perf-class counters (40: 10^12 cycles) */
  classBits: number;
  /** the pool's weights stream from off-chip: ws_beat / ws_burst / ws_wait inputs and STREAM_COUNTER_REGS */
  stream: boolean;
}

/** A memory on the host port (its capacity against HOST_INDEX_BITS is checked at validation: generator/config/validate.ts). */
export function hostMemory(mem: LogicalMemory, prefix: string, region: number): HostMemory {
  const { fields, fieldBits } = hostFields(mem);
  return { mem, prefix, region, fields, fieldBits };
}

/** Options of ctrlParams: the shared umem, the host-written memories (net prefix of their write port) and the dataflow's phase names. */
export interface CtrlOptions {
  umem: LogicalMemory;
  hostMems: { mem: LogicalMemory; prefix: string }[];
  phaseNames: readonly string[];
}

export function ctrlParams(r: Resolved, umem: LogicalMemory, hostMems: { mem: LogicalMemory; prefix: string }[], phaseNames: readonly string[]): CtrlParams {
  const phases = phaseNames.length;
  return {
    module: `${r.name}_ctrl`,
    L: r.L,
    blockBits: idxBits(r.L),
    idLow: parseInt(r.hash.slice(-8), 16) >>> 0,
    umem: hostMemory(umem, "u", 1),
    hostMems: hostMems.map((h, i) => hostMemory(h.mem, h.prefix, i + 2)),
    phaseNames,
    phases,
    phaseBits: idxBits(phases + 1),
    counterIdxBits: Math.max(idxBits(r.L * phases), idxBits(phases + 1)),
    classBits: 40,
    stream: !r.hw.weights.onChip,
  };
}

function memCtx(h: HostMemory) {
  return {
    prefix: h.prefix,
    module: h.mem.module,
    region: h.region,
    width: h.mem.width,
    widthMsb: h.mem.width - 1,
    addrMsb: h.mem.addrBits - 1,
    fieldBits: h.fieldBits,
    fieldMsb: Math.max(h.fieldBits, 1) - 1,
    hasFields: h.fieldBits > 0,
    padBits: h.fields * 32 - h.mem.width,
    padMsb: h.fields * 32 - 1,
    idxHi: h.fieldBits + h.mem.addrBits - 1,
    fieldList: Array.from({ length: h.fields }, (_, f) => {
      const w = Math.min(32, h.mem.width - 32 * f);
      return { f, lo: 32 * f, w, msb: 32 * f + w - 1, wMsb: w - 1 };
    }),
  };
}

/**
 * The phase counter a read of r_idx (PHASE_BASE <= r_idx < PHASE_BASE + counters) selects, on
 * bits = counterIdxBits: (r_idx - PHASE_BASE) mod 2^bits = (r_idx mod 2^bits - PHASE_BASE mod 2^bits) mod 2^bits,
 * which is r_idx's low bits alone while 2^bits divides PHASE_BASE (at most 256 counters).
 */
export function phaseIdxExpr(bits: number): string {
  const low = `r_idx[${bits - 1}:0]`;
  const base = REG.PHASE_BASE % 2 ** bits;
  return base === 0 ? low : `${low} - ${ulit(bits, base)}`;
}

export function ctrlContext(p: CtrlParams) {
  // host write data bits that no memory field uses (every memory narrower than 32 bits); bit 0
  // always has a use (CTRL start)
  const dataBitsUsed = Math.max(1, ...[p.umem, ...p.hostMems].map((h) => Math.min(32, h.mem.width)));
  const { width, widthMsb, addrMsb, fieldBits, fieldMsb, hasFields, padBits, padMsb, idxHi, fieldList, module } = memCtx(p.umem);
  return {
    module: p.module,
    idLow: p.idLow,
    hasUnusedData: dataBitsUsed < 32,
    ...(dataBitsUsed < 32 ? { unusedDataLo: dataBitsUsed } : {}),
    blockMsb: p.blockBits - 1,
    L: p.L,
    umem: { module, width, widthMsb, addrMsb, fieldBits, fieldMsb, hasFields, padBits, padMsb, idxHi, fieldList },
    hostMems: p.hostMems.map((h) => {
      const { prefix, module, region, widthMsb, addrMsb, fieldBits, fieldMsb, hasFields, idxHi, fieldList } = memCtx(h);
      return { prefix, module, region, widthMsb, addrMsb, fieldBits, fieldMsb, hasFields, idxHi, fieldList };
    }),
    counters: p.L * p.phases,
    countersLast: p.L * p.phases - 1,
    pcntMsb: 32 * p.L * p.phases - 1,
    // r_idx - PHASE_BASE on counterIdxBits bits: the low bits of r_idx, less PHASE_BASE's low bits
    // when they are not zero (more than 256 counters)
    phaseIdx: phaseIdxExpr(p.counterIdxBits),
    counterIdxBits: p.counterIdxBits,
    counterIdxMsb: p.counterIdxBits - 1,
    phaseMsb: p.phaseBits - 1,
    phases: p.phases,

    regCtrl: ulit(HOST_INDEX_BITS, REG.CTRL),
    regStatus: ulit(8, REG.STATUS),
    regId: ulit(8, REG.ID),
    regPhaseBase: ulit(HOST_INDEX_BITS, REG.PHASE_BASE),
    regClassBase: ulit(HOST_INDEX_BITS, REG.CLASS_BASE),
    regClassEnd: ulit(HOST_INDEX_BITS, REG.CLASS_BASE + 32),
    clsMsb: p.classBits - 1,
    clsBits: p.classBits,
    clsHi: p.classBits > 32 ? `{ ${ulit(64 - p.classBits, 0)}, ccnt[r_idx[4:1]][${p.classBits - 1}:32] }` : "32'd0",
    stream: p.stream,
    counterRegs: [...COUNTER_REGS, ...(p.stream ? STREAM_COUNTER_REGS : [])].map((c) => ({ lo: ulit(8, REG[c.reg]), hi: ulit(8, REG[c.reg] + 1), sig: c.sig })),
    phaseEnd: REG.PHASE_BASE + p.L * p.phases,
    counterPad: p.counterIdxBits - p.phaseBits,
  };
}

export function renderCtrl(r: Resolved, p: CtrlParams): GeneratedFile[] {
  return [renderVerilog(r, path.join(here, "ctrl.v.hbs"), `${p.module}.v`, "controller: host interface, start/done, umem mux, counters", ctrlContext(p))];
}

/**
 * The block (generator/blocks/block.ts), simulated by the end-to-end tests through the host
 * port.  It reaches umem through its u_* pins (the top instantiates umem) and drives the write
 * port of every host-written memory.
 */
export const ctrlBlock: Block<CtrlParams, CtrlOptions> = {
  name: "ctrl",
  golden: null,
  testedBy: ["test/e2e.test.ts", "test/ctrlCounters.test.ts", "generator/package/package.test.ts"],
  params: (r, o) => ctrlParams(r, o.umem, o.hostMems, o.phaseNames),
  render: renderCtrl,
  memories: (p) => [{ mem: p.umem.mem, prefix: "u", access: "rw", hostWritable: false, role: "residual stream U (shared with the dataflow unit through ctrl's multiplexer)" }],
};
