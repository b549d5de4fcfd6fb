/**
 * The whole accelerator (SPEC §1.3 for L blocks): ctrl + the dataflow unit + the synaptic
 * pool + every logical memory, assembled as one Netlist from which the 2D top (and the 3D
 * tiers) are rendered.  Also the host-side view: which memory image goes to which host region.
 */
import type { Resolved } from "../config/resolve.ts";
import { renderVerilog, type GeneratedFile } from "../render/render.ts";
import { idxBits } from "../util/bits.ts";
import { type LogicalMemory } from "../blocks/memory/ram1r1w.ts";
import { ctrlParams, renderCtrl, type CtrlParams } from "../blocks/ctrl/ctrl.ts";
import { DATAFLOW_PHASES, dataflowImages, dataflowParams, renderDataflow, type DataflowMemory, type DataflowParams } from "../blocks/dataflow/dataflow.ts";
import { renderSynPool, synPoolParams, type SynPoolParams } from "../blocks/synPool/synPool.ts";
import type { Model } from "../model/golden.ts";
import { type InstanceDecl, type Netlist, type PortDecl, renderStructural, netInfo } from "./netlist.ts";
import { portsOf } from "./ports.ts";

/** Per-block phase counters of ctrl (run.json perLayer), in register order. */
export const PHASES = DATAFLOW_PHASES;

export interface Accelerator {
  r: Resolved;
  top: string;
  netlist: Netlist;
  ctrl: CtrlParams;
  dataflow: DataflowParams;
  pool: SynPoolParams;
  umem: LogicalMemory;
  /** every logical memory of the design (umem first) */
  memories: LogicalMemory[];
  /** logic files (ctrl, dataflow, pool and their submodules); memory views are added by design.ts */
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
  const dataflow = dataflowParams(r);
  const pool = synPoolParams(r);
  const g = dataflow.geo;
  const umem = dataflow.umem;
  const owners: { tag: string; inst: string; module: string; group: string; mems: DataflowMemory[] }[] = [
    { tag: "d", inst: "u_dataflow", module: dataflow.module, group: "dataflow", mems: dataflow.memories },
    { tag: "p", inst: "u_pool", module: pool.module, group: "pool", mems: pool.memories },
  ];
  const hostMems: { mem: LogicalMemory; prefix: string }[] = [];
  for (const o of [owners[1], owners[0]]) for (const m of o.mems) if (m.hostWritable) hostMems.push({ mem: m.mem, prefix: `${o.tag}_${m.prefix}` });
  const ctrl = ctrlParams(r, umem, hostMems, PHASES);

  const logicFiles = [...renderCtrl(r, ctrl), ...renderDataflow(r, dataflow), ...renderSynPool(r, pool)];
  const instances: InstanceDecl[] = [];

  // ctrl: net names = its port names (d_*, u_*, host_*, <memory>_* write ports, pool_class)
  const ctrlPorts = portsOf(logicFiles, ctrl.module);
  instances.push({ name: "u_ctrl", module: ctrl.module, kind: "logic", group: "ctrl", ports: ctrlPorts, conns: Object.fromEntries(ctrlPorts.map((p) => [p.name, p.name])) });

  const memPin = (o: (typeof owners)[number]) => {
    const m = new Map<string, DataflowMemory>();
    for (const x of o.mems) for (const pin of ["re", "raddr", "rdata", "we", "waddr", "wdata", "wmask"]) m.set(`${x.prefix}_${pin}`, x);
    return m;
  };
  // the dataflow unit: ctrl-facing pins d_<pin>, the pool port p_* (shared net names with the pool), memories d_<prefix>_*
  {
    const o = owners[0];
    const ports = portsOf(logicFiles, o.module);
    const pins = memPin(o);
    const toCtrl: Record<string, string> = { start: "d_start", busy: "d_busy", done: "d_done", blk: "d_blk", phase: "d_phase", rt_class: "d_rt_class", u_re: "d_u_re", u_raddr: "d_u_raddr", u_we: "d_u_we", u_waddr: "d_u_waddr", u_wdata: "d_u_wdata" };
    const conns: Record<string, string> = {};
    for (const p of ports) {
      if (p.name === "clk" || p.name === "rst" || p.name === "u_rdata") conns[p.name] = p.name;
      else if (toCtrl[p.name]) conns[p.name] = toCtrl[p.name];
      else if (p.name.startsWith("perf_")) conns[p.name] = `d_${p.name}`;
      else if (p.name.startsWith("p_")) conns[p.name] = p.name;
      else if (pins.has(p.name)) conns[p.name] = `d_${p.name}`;
      else throw new Error(`${o.module}: port ${p.name} has no net in the top level`);
    }
    instances.push({ name: o.inst, module: o.module, kind: "logic", group: o.group, ports, conns });
  }
  // the pool: engine port on the p_* nets, memories p_<prefix>_*, w_gnt = 1 (on-chip weight memory)
  {
    const o = owners[1];
    const ports = portsOf(logicFiles, o.module);
    const pins = memPin(o);
    const conns: Record<string, string> = {};
    for (const p of ports) {
      if (p.name === "clk" || p.name === "rst") conns[p.name] = p.name;
      else if (p.name === "w_gnt") conns[p.name] = "1'b1";
      else if (p.name === "perf_class") conns[p.name] = "pool_class";
      else if (pins.has(p.name)) conns[p.name] = `p_${p.name}`;
      else if (p.name === "busy" || p.name === "out_last") conns[p.name] = `unused_p_${p.name}`;
      else conns[p.name] = `p_${p.name}`;
    }
    instances.push({ name: o.inst, module: o.module, kind: "logic", group: o.group, ports, conns });
  }
  for (const o of owners)
    for (const m of o.mems) {
      const pre = `${o.tag}_${m.prefix}`;
      const conns: Record<string, string> = { clk: "clk", re: `${pre}_re`, raddr: `${pre}_raddr`, rdata: `${pre}_rdata`, we: `${pre}_we`, waddr: `${pre}_waddr`, wdata: `${pre}_wdata`, wmask: `${pre}_wmask` };
      instances.push({ name: `u_mem_${pre}`, module: m.mem.module, kind: "memory", group: `mem:${m.mem.kind}`, ports: memPorts(m.mem), conns, memory: m.mem });
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

  const top = `${r.name}_top`;
  const netlist: Netlist = { module: top, ports: CHIP_PORTS, instances };
  netInfo(netlist); // validates: one driver per net, widths agree
  const topFile: GeneratedFile = {
    path: `${top}.v`,
    kind: "rtl",
    content:
      renderVerilog(r, "templates/empty.v.hbs", `${top}.v`, "2D top level (structural)", {}).content +
      renderStructural(netlist, [
        `The accelerator, 2D view: ctrl, the dataflow unit, the synaptic pool (${g.P} lanes) and ${instances.filter((i) => i.kind === "memory").length} logical memories.`,
        "Host port: see docs/HOST.md (register map in generator/blocks/ctrl/ctrl.ts).",
      ]),
  };
  const memories = [umem, ...owners.flatMap((o) => o.mems.map((m) => m.mem))];
  return { r, top, netlist, ctrl, dataflow, pool, umem, memories, logicFiles, topFile, geom: { tBits: idxBits(r.T), nBits: g.nBits, rowsPadded: g.rows, tilesD: g.tilesD, P: g.P } };
}

/** Word images of the host-written memories, by memory module name. */
export function memoryImages(acc: Accelerator, model: Model): Map<string, bigint[]> {
  const img = dataflowImages(acc.r, acc.dataflow.geo, model);
  const mod = (o: { memories: DataflowMemory[] }, prefix: string) => o.memories.find((m) => m.prefix === prefix)!.mem.module;
  return new Map<string, bigint[]>([
    ...img.wp.map((words, b): [string, bigint[]] => [mod(acc.pool, `wp${b}`), words]),
    [mod(acc.pool, "bp"), img.bp],
    [mod(acc.dataflow, "wr"), img.wr],
    [mod(acc.dataflow, "br"), img.br],
  ]);
}
