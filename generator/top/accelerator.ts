/**
 * The whole accelerator (SPEC §1.3 for L blocks): ctrl + attnHalf + moeHalf + every
 * logical memory, assembled as one Netlist from which the 2D top (and the 3D tiers) are
 * rendered.  Also the host-side view: which memory image goes to which host region.
 */
import type { Resolved } from "../config/resolve.ts";
import { renderVerilog, type GeneratedFile } from "../render/render.ts";
import { idxBits } from "../util/bits.ts";
import { logicalMemory, type LogicalMemory } from "../blocks/memory/ram1r1w.ts";
import { ctrlParams, renderCtrl, type CtrlParams } from "../blocks/ctrl/ctrl.ts";
import { attnHalfParams, renderAttnHalf, attnHalfImage, type AttnHalfParams } from "../blocks/attnHalf/attnHalf.ts";
import { moeHalfParams, renderMoeHalf, moeHalfImage, type MoeHalfParams } from "../blocks/moeHalf/moeHalf.ts";
import type { Model } from "../model/golden.ts";
import { type InstanceDecl, type Netlist, type PortDecl, renderStructural, netInfo } from "./netlist.ts";
import { portsOf } from "./ports.ts";

export const ATTN_PHASES = ["lif_a", "q", "k", "v", "attention", "o"];
export const MOE_PHASES = ["lif_m", "router", "topk", "experts", "final"];

export interface HalfMemory {
  mem: LogicalMemory;
  prefix: string;
  access: "rw" | "read";
  hostWritable: boolean;
  role: string;
}

export interface Accelerator {
  r: Resolved;
  top: string;
  netlist: Netlist;
  ctrl: CtrlParams;
  attn: AttnHalfParams;
  moe: MoeHalfParams;
  umem: LogicalMemory;
  /** every logical memory of the design (umem first) */
  memories: LogicalMemory[];
  /** logic files (ctrl, halves and their submodules); memory views are added by design.ts */
  logicFiles: GeneratedFile[];
  topFile: GeneratedFile;
  /** geometry used by the host program */
  geom: { tBits: number; nBits: number; rowsPadded: number; tilesD: number; P: number };
}

export const CHIP_PORTS: PortDecl[] = [
  { name: "clk", dir: "input", width: 1 },
  { name: "rst", dir: "input", width: 1 },
  { name: "host_req_valid", dir: "input", width: 1 },
  { name: "host_req_ready", dir: "output", width: 1 },
  { name: "host_req_write", dir: "input", width: 1 },
  { name: "host_req_addr", dir: "input", width: 32 },
  { name: "host_req_wdata", dir: "input", width: 32 },
  { name: "host_resp_valid", dir: "output", width: 1 },
  { name: "host_resp_rdata", dir: "output", width: 32 },
  { name: "busy", dir: "output", width: 1 },
];

function memPorts(m: LogicalMemory): PortDecl[] {
  return [
    { name: "clk", dir: "input", width: 1 },
    { name: "re", dir: "input", width: 1 },
    { name: "raddr", dir: "input", width: m.addrBits },
    { name: "rdata", dir: "output", width: m.width },
    { name: "we", dir: "input", width: 1 },
    { name: "waddr", dir: "input", width: m.addrBits },
    { name: "wdata", dir: "input", width: m.width },
    { name: "wmask", dir: "input", width: m.width },
  ];
}

export function buildAccelerator(r: Resolved): Accelerator {
  const P = r.hw.linearLanes;
  const tBits = idxBits(r.T);
  const nBits = idxBits(r.N);
  const rowsPadded = r.T << nBits;
  const tilesD = Math.ceil(r.D / P);
  const umem = logicalMemory(`${r.name}_mem_umem`, "residual stream U", rowsPadded * tilesD, P * r.residBits, { kind: "residual" });

  const attn = attnHalfParams(r);
  const moe = moeHalfParams(r);
  const halves: { tag: "a" | "m"; inst: string; module: string; mems: HalfMemory[] }[] = [
    { tag: "a", inst: "u_attnHalf", module: attn.module, mems: attn.memories as HalfMemory[] },
    { tag: "m", inst: "u_moeHalf", module: moe.module, mems: moe.memories as HalfMemory[] },
  ];
  const hostMems: { mem: LogicalMemory; prefix: string }[] = [];
  for (const h of halves) for (const m of h.mems) if (m.hostWritable) hostMems.push({ mem: m.mem, prefix: `${h.tag}_${m.prefix}` });
  const ctrl = ctrlParams(r, umem, hostMems, ATTN_PHASES, MOE_PHASES);

  const logicFiles = [...renderCtrl(r, ctrl), ...renderAttnHalf(r, attn), ...renderMoeHalf(r, moe)];
  const instances: InstanceDecl[] = [];

  // ctrl
  const ctrlPorts = portsOf(logicFiles, ctrl.module);
  const ctrlConns: Record<string, string> = {};
  for (const p of ctrlPorts) ctrlConns[p.name] = p.name; // net names = ctrl port names (a_*, m_*, u_*, host_*)
  instances.push({ name: "u_ctrl", module: ctrl.module, kind: "logic", group: "ctrl", ports: ctrlPorts, conns: ctrlConns });

  // halves
  const ctrlSide: Record<string, string> = {
    start: "start",
    cfg_block: "block",
    busy: "busy",
    done: "done",
    phase: "phase",
    u_re: "u_re",
    u_raddr: "u_raddr",
    u_we: "u_we",
    u_waddr: "u_waddr",
    u_wdata: "u_wdata",
  };
  for (const h of halves) {
    const ports = portsOf(logicFiles, h.module);
    const conns: Record<string, string> = {};
    const memByPin = new Map<string, HalfMemory>();
    for (const m of h.mems) for (const pin of ["re", "raddr", "rdata", "we", "waddr", "wdata", "wmask"]) memByPin.set(`${m.prefix}_${pin}`, m);
    for (const p of ports) {
      if (p.name === "clk" || p.name === "rst") conns[p.name] = p.name;
      else if (p.name === "u_rdata") conns[p.name] = "u_rdata";
      else if (ctrlSide[p.name]) conns[p.name] = `${h.tag}_${ctrlSide[p.name]}`;
      else if (p.name.startsWith("perf_")) conns[p.name] = `${h.tag}_${p.name}`;
      else if (memByPin.has(p.name)) conns[p.name] = `${h.tag}_${p.name}`;
      else if (p.dir === "output") conns[p.name] = `unused_${h.tag}_${p.name}`;
      else throw new Error(`${h.module}: input ${p.name} has no source in the top level`);
    }
    instances.push({ name: h.inst, module: h.module, kind: "logic", group: h.inst.slice(2), ports, conns });
    for (const m of h.mems) {
      const pre = `${h.tag}_${m.prefix}`;
      const conns: Record<string, string> = { clk: "clk", re: `${pre}_re`, raddr: `${pre}_raddr`, rdata: `${pre}_rdata`, we: `${pre}_we`, waddr: `${pre}_waddr`, wdata: `${pre}_wdata`, wmask: `${pre}_wmask` };
      instances.push({ name: `u_mem_${pre}`, module: m.mem.module, kind: "memory", group: `mem:${m.mem.kind}`, ports: memPorts(m.mem), conns, memory: m.mem });
    }
  }
  // umem
  instances.push({
    name: "u_mem_umem",
    module: umem.module,
    kind: "memory",
    group: "mem:residual",
    ports: memPorts(umem),
    conns: { clk: "clk", re: "u_re", raddr: "u_raddr", rdata: "u_rdata", we: "u_we", waddr: "u_waddr", wdata: "u_wdata", wmask: "u_wmask" },
    memory: umem,
  });
  // ctrl drives the host write side of host-writable memories: its ports are named <pre>_we ... already

  const top = `${r.name}_top`;
  const netlist: Netlist = { module: top, ports: CHIP_PORTS, instances };
  netInfo(netlist); // validates: one driver per net, widths agree
  const topFile: GeneratedFile = {
    path: `${top}.v`,
    kind: "rtl",
    content:
      renderVerilog(r, "templates/empty.v.hbs", `${top}.v`, "2D top level (structural)", {}).content +
      renderStructural(netlist, [
        `The accelerator, 2D view: ctrl, attnHalf, moeHalf and ${instances.filter((i) => i.kind === "memory").length} logical memories.`,
        "Host port: see docs/HOST.md (register map in generator/blocks/ctrl/ctrl.ts).",
      ]),
  };
  const memories = [umem, ...halves.flatMap((h) => h.mems.map((m) => m.mem))];
  return { r, top, netlist, ctrl, attn, moe, umem, memories, logicFiles, topFile, geom: { tBits, nBits, rowsPadded, tilesD, P } };
}

/** Word images of the host-written memories, by memory module name. */
export function memoryImages(acc: Accelerator, model: Model): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  for (const [k, v] of attnHalfImage(acc.r, acc.attn, model)) out.set(k, v);
  for (const [k, v] of moeHalfImage(acc.r, acc.moe, model)) out.set(k, v);
  return out;
}
