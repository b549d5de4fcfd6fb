/**
 * The whole accelerator (SPEC §1.3 for L blocks): ctrl + the blocks of TOP_BLOCKS (the dataflow
 * unit and the synaptic pool) + every logical memory, assembled as one Netlist from which the 2D
 * top (and the 3D tiers) are rendered.  Also the host-side view: which memory image goes to
 * which host region.
 *
 * The top loops over TOP_BLOCKS: each entry's block gives its params, its files, its memories
 * (one memory instance per BlockMemory, wired to the block's `<prefix>_*` pins) and the images
 * of its host-written memories (whose write ports ctrl drives).  The block's ports towards ctrl
 * are the nets `<tag>_<port>`; the entry's `net` names the nets of its other ports (the pool
 * port between the dataflow unit and the pool).  docs/ARCHITECTURE.md "How to add a block".
 */
import type { Resolved } from "../config/resolve.ts";
import { fileHeader } from "../render/render.ts";
import { residualMemory, type LogicalMemory } from "../blocks/memory/ram1r1w.ts";
import { ctrlBlock, type CtrlParams } from "../blocks/ctrl/ctrl.ts";
import { DATAFLOW_PHASES, dataflowBlock } from "../blocks/dataflow/dataflow.ts";
import { synPoolBlock, type SynPoolParams } from "../blocks/synPool/synPool.ts";
import type { Model } from "../model/golden.ts";
import { type InstanceDecl, type Netlist, renderStructural, netInfo } from "./netlist.ts";
import { memoryModulePorts, type Block, type BlockMemory, type PortDecl } from "../blocks/block.ts";
import type { GeneratedFile } from "../core/files.ts";
import { portsOf } from "./ports.ts";

/** Per-block phase counters of ctrl (run.json perLayer), in the order of the dataflow's `phase` codes 1.. */
export const PHASES = DATAFLOW_PHASES;

/** A block at the top level. */
export interface TopBlock {
  /** net prefix of its ports towards ctrl (`<tag>_start`, `<tag>_u_raddr` ...) and of its memories */
  tag: string;
  /** instance name */
  inst: string;
  /** the net of a port that is neither towards ctrl, a perf counter nor a memory pin (undefined: none) */
  net?: (port: PortDecl) => string | undefined;
  // the top only uses params/render/memories/images, whatever the block's options and cycle model
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  block: Block<any, void, any, any>;
}

/** The pool's engine port towards the dataflow unit: nets p_<port> (the dataflow's p_* pins). */
const POOL_NET = (p: PortDecl): string => {
  if (p.name === "w_gnt") return "1'b1"; // on-chip weight banks: every weight read is granted at once
  // weights off chip: the AXI4 read master is a chip port, the stream's counter pulses go to ctrl
  if (p.name.startsWith("wm_")) return p.name;
  if (p.name === "perf_beat" || p.name === "perf_burst" || p.name === "perf_wait") return `ws_${p.name.slice("perf_".length)}`;
  if (p.name === "stream_idle") return "ws_idle";
  if (p.name === "perf_class") return "pool_class";
  if (p.name === "busy" || p.name === "out_last") return `unused_p_${p.name}`;
  return `p_${p.name}`;
};

/** The blocks of the top level, in instance order (ctrl comes first and starts the dataflow unit). */
export const TOP_BLOCKS: readonly TopBlock[] = [
  { tag: "d", inst: "u_dataflow", block: dataflowBlock, net: (p) => (p.name.startsWith("p_") ? p.name : undefined) },
  { tag: "p", inst: "u_pool", block: synPoolBlock, net: POOL_NET },
];

/** A top-level block with its params derived for one config. */
export interface PlannedBlock {
  entry: TopBlock;
  params: { module: string };
  memories: BlockMemory[];
}

/** What the top consists of for one config, before anything is rendered (cheap: also what validation checks). */
export interface AcceleratorPlan {
  r: Resolved;
  blocks: PlannedBlock[];
  ctrl: CtrlParams;
  umem: LogicalMemory;
  /** every logical memory of the design (umem first) */
  memories: LogicalMemory[];
}

export interface Accelerator extends AcceleratorPlan {
  top: string;
  netlist: Netlist;
  /** logic files (ctrl, the blocks and their submodules); memory views are added by design.ts */
  logicFiles: GeneratedFile[];
  topFile: GeneratedFile;
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

/** The off-chip weight port (weightsOnChip false): the pool's AXI4 read master, docs/HOST.md "Off-chip weight port". */
export function weightPortDecls(addrBits: number, beatBits: number): PortDecl[] {
  return [
    { name: "wm_araddr", dir: "output", width: addrBits },
    { name: "wm_arlen", dir: "output", width: 8 },
    { name: "wm_arsize", dir: "output", width: 3 },
    { name: "wm_arburst", dir: "output", width: 2 },
    { name: "wm_arvalid", dir: "output", width: 1 },
    { name: "wm_arready", dir: "input", width: 1 },
    { name: "wm_rdata", dir: "input", width: beatBits },
    { name: "wm_rlast", dir: "input", width: 1 },
    { name: "wm_rvalid", dir: "input", width: 1 },
    { name: "wm_rready", dir: "output", width: 1 },
  ];
}

/** The chip's ports: CHIP_PORTS, and the off-chip weight port when the weights stream. */
export function chipPorts(plan: AcceleratorPlan): PortDecl[] {
  const pool = plan.blocks.find((b) => b.entry.block === synPoolBlock);
  const ws = (pool?.params as SynPoolParams | undefined)?.stream;
  return ws ? [...CHIP_PORTS, ...weightPortDecls(ws.addrBits, ws.beatBits)] : CHIP_PORTS;
}

/** Ports of a top-level block that ctrl drives or reads, and the net suffix they connect to (`<tag>_<suffix>`). */
const CTRL_SIDE: Record<string, string> = {
  start: "start",
  busy: "busy",
  done: "done",
  blk: "blk",
  phase: "phase",
  rt_class: "rt_class",
  u_re: "u_re",
  u_raddr: "u_raddr",
  u_we: "u_we",
  u_waddr: "u_waddr",
  u_wdata: "u_wdata",
};
const MEM_PINS = ["re", "raddr", "rdata", "we", "waddr", "wdata", "wmask"];

export function planAccelerator(r: Resolved): AcceleratorPlan {
  const umem = residualMemory(r);
  const blocks: PlannedBlock[] = TOP_BLOCKS.map((entry) => {
    const params = entry.block.params(r, undefined);
    return { entry, params, memories: entry.block.memories(params) };
  });
  // host regions: the pool's weight banks and biases first, then the router's
  const hostMems: { mem: LogicalMemory; prefix: string }[] = [];
  for (const b of [...blocks].reverse()) for (const m of b.memories) if (m.hostWritable) hostMems.push({ mem: m.mem, prefix: `${b.entry.tag}_${m.prefix}` });
  const ctrl = ctrlBlock.params(r, { umem, hostMems, phaseNames: PHASES });
  const memories = [umem, ...blocks.flatMap((b) => b.memories.map((m) => m.mem))];
  return { r, blocks, ctrl, umem, memories };
}

export function buildAccelerator(r: Resolved): Accelerator {
  const plan = planAccelerator(r);
  const { ctrl, umem } = plan;
  const logicFiles = [...ctrlBlock.render(r, ctrl), ...plan.blocks.flatMap((b) => b.entry.block.render(r, b.params))];
  const instances: InstanceDecl[] = [];

  // ctrl: net names = ctrl port names (d_*, u_*, host_*, pool_class, the host write ports)
  const ctrlPorts = portsOf(logicFiles, ctrl.module);
  instances.push({ name: "u_ctrl", module: ctrl.module, kind: "logic", group: "ctrl", ports: ctrlPorts, conns: Object.fromEntries(ctrlPorts.map((p) => [p.name, p.name])) });

  // the blocks and their memories
  for (const b of plan.blocks) {
    const { tag, inst } = b.entry;
    const module = b.params.module;
    const ports = portsOf(logicFiles, module);
    const memPins = new Set(b.memories.flatMap((m) => MEM_PINS.map((pin) => `${m.prefix}_${pin}`)));
    const conns: Record<string, string> = {};
    for (const p of ports) {
      const own = b.entry.net?.(p);
      if (p.name === "clk" || p.name === "rst") conns[p.name] = p.name;
      else if (memPins.has(p.name)) conns[p.name] = `${tag}_${p.name}`;
      else if (own !== undefined) conns[p.name] = own;
      else if (p.name === "u_rdata") conns[p.name] = "u_rdata";
      else if (CTRL_SIDE[p.name]) conns[p.name] = `${tag}_${CTRL_SIDE[p.name]}`;
      else if (p.name.startsWith("perf_")) conns[p.name] = `${tag}_${p.name}`;
      else if (p.dir === "output") conns[p.name] = `unused_${tag}_${p.name}`;
      else throw new Error(`internal: ${module}: input ${p.name} has no source in the top level`);
    }
    instances.push({ name: inst, module, kind: "logic", group: inst.slice(2), ports, conns });
    // a host-written memory's write port is driven by ctrl, under the same net names <tag>_<prefix>_we ...
    for (const m of b.memories) {
      const pre = `${tag}_${m.prefix}`;
      const conns: Record<string, string> = { clk: "clk", ...Object.fromEntries(MEM_PINS.map((pin) => [pin, `${pre}_${pin}`])) };
      instances.push({ name: `u_mem_${pre}`, module: m.mem.module, kind: "memory", group: `mem:${m.mem.kind}`, ports: memoryModulePorts(m.mem), conns, memory: m.mem });
    }
  }
  // umem: ctrl's u_* pins
  instances.push({
    name: "u_mem_umem",
    module: umem.module,
    kind: "memory",
    group: "mem:residual",
    ports: memoryModulePorts(umem),
    conns: { clk: "clk", ...Object.fromEntries(MEM_PINS.map((pin) => [pin, `u_${pin}`])) },
    memory: umem,
  });

  const top = `${r.name}_top`;
  const netlist: Netlist = { module: top, ports: chipPorts(plan), instances };
  netInfo(netlist); // validates: one driver per net, widths agree
  const topFile: GeneratedFile = {
    path: `${top}.v`,
    kind: "rtl",
    content:
      fileHeader(r, `${top}.v`, "2D top level (structural)", "generator/top/accelerator.ts (printed by generator/top/netlist.ts)") +
      renderStructural(netlist, [
        `The accelerator, 2D view: ctrl, ${plan.blocks.map((b) => b.entry.block.name).join(", ")} (${r.geo.lanes} synaptic lanes) and ${instances.filter((i) => i.kind === "memory").length} logical memories.`,
        "Host port: see docs/HOST.md (register map in generator/blocks/ctrl/ctrl.ts).",
      ]),
  };
  return { ...plan, top, netlist, logicFiles, topFile };
}

/** Word images of the host-written memories, by memory module name. */
export function memoryImages(acc: AcceleratorPlan, model: Model): Map<string, bigint[]> {
  const out = new Map<string, bigint[]>();
  for (const b of acc.blocks) if (b.entry.block.images) for (const [k, v] of b.entry.block.images(acc.r, b.params, model)) out.set(k, v);
  return out;
}
