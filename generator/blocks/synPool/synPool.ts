/**
 * synPool — the shared synaptic lane pool: one linearEngine of P = hw.poolLanes lanes that
 * computes every linear layer of the design (q, k, v, o, fc1[e], fc2[e] of every block), one
 * layer at a time, for the dataflow unit (../dataflow).  Its weight memories (one bank per
 * block, wp<b>) and its bias memory (bp), host-written, are the only weights it reads; the
 * weight read is stall-able (w_gnt) so a weight buffer fed from off-chip can replace the
 * banks.  Template: ./synPool.v.hbs.
 * Tested through ../dataflow (dataflow.test.ts) and the engine's own tests.
 * Micro-architecture: docs/ARCHITECTURE.md "## synPool".
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { OFFCHIP_ADDR_BITS, type Resolved } from "../../config/resolve.ts";
import type { GeneratedFile } from "../../core/files.ts";
import type { Model } from "../../model/golden.ts";
import { renderVerilog } from "../../render/render.ts";
import type { Block } from "../block.ts";
import { logicalMemory, type LogicalMemory } from "../memory/ram1r1w.ts";
import { linearEngineContext, renderLinearEngine, type LinearEngineParams } from "../linearEngine/linearEngine.ts";
import { dataflowGeometry, dataflowImages, type DataflowMemory } from "../dataflow/dataflow.ts";
import { linearEngineParams } from "../linearEngine/linearEngine.ts";
import { idxBits } from "../../util/bits.ts";
import { resizeU, ulit } from "../../render/verilog.ts";
import { renderWeightStream, weightStreamParams, type WeightStreamParams } from "../weightStream/weightStream.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SynPoolParams {
  module: string;
  engine: LinearEngineParams;
  /** hardware.weightsOnChip false: the weight stream that replaces the banks (undefined: banks wp<b>) */
  stream?: WeightStreamParams;
  /** weight banks: one per block (bank b holds block b's layers at the same local addresses) */
  banks: number;
  bankBits: number;
  /** wp0 .. wp<L-1> (weights) and bp (biases), host-written, read through the wp<b>_* / bp_* pins */
  memories: DataflowMemory[];
}

export function synPoolParams(r: Resolved): SynPoolParams {
  const g = dataflowGeometry(r);
  const engine = linearEngineParams(r, "pool", { inMax: g.inMax, tilesMax: g.tilesMax, tagBits: g.rowBits, wDepth: g.blockW, bDepth: g.bpDepth, lanes: g.P, group: g.G });
  const bank = (b: number): DataflowMemory => ({
    mem: logicalMemory(`${r.name}_mem_wp${b}`, `pool weights of block ${b}`, g.blockW, g.P * r.weightBits, { kind: "weights", ports: "1rw" }),
    prefix: `wp${b}`,
    access: "read",
    hostWritable: true,
    role: `weights of every pool layer of block ${b}: q/k/v/o at l*tilesD*D, expert e at 4*tilesD*D + e*perExpW (fc1, then fc2 at + tilesF*D); word + j*fanin + c, lane l = weight[j*P+l][c]`,
  });
  const bp: LogicalMemory = logicalMemory(`${r.name}_mem_bp`, "pool biases of all blocks", g.bpDepth, g.P * r.biasBits, { kind: "weights", ports: "1rw" });
  const bpMem: DataflowMemory = { mem: bp, prefix: "bp", access: "read", hostWritable: true, role: "biases of every pool layer: block b at b*blockB, word + j, lane l = bias[j*P+l]" };
  const w = r.hw.weights;
  if (!w.onChip) {
    // the weights stream from off-chip: one layer per half, the dataflow unit sends the descriptors in the pool's order of use
    const stream = weightStreamParams(r, { maxLayerWords: w.halfDepth, beatBits: w.beatBits, wordBits: w.wordBits, addrBits: OFFCHIP_ADDR_BITS, maxLead: poolLayersPerInference(g) });
    return { module: `${r.name}_synPool`, engine, stream, banks: g.L, bankBits: idxBits(g.L), memories: [...stream.memories, bpMem] };
  }
  return {
    module: `${r.name}_synPool`,
    engine,
    banks: g.L,
    bankBits: idxBits(g.L),
    memories: [
      ...[...Array(g.L).keys()].map(bank),
      bpMem,
    ],
  };
}

/** Pool layers of an inference at most (every expert routed): the weight stream's maxLead (use_done may come before the DMA took a layer). */
export function poolLayersPerInference(g: { L: number; E: number }): number {
  return g.L * (4 + 2 * g.E);
}

function streamContext(p: SynPoolParams) {
  const ws = p.stream;
  if (!ws) return { stream: false };
  const eA = p.engine.wAddrBits;
  const sA = ws.wAddrBits;
  return {
    stream: true,
    wsModule: ws.module,
    addrMsb: ws.addrBits - 1,
    countMsb: ws.countBits - 1,
    beatMsb: ws.beatBits - 1,
    wsAddrMsb: sA - 1,
    rdAddr: resizeU("w_raddr", eA, sA),
    /** engine address bits above the half's (a layer starts at word 0 of its half) */
    unusedRaddr: eA > sA ? `w_raddr[${eA - 1}:${sA}]` : undefined,
    zeroWbase: ulit(eA, 0),
  };
}

export function renderSynPool(r: Resolved, p: SynPoolParams): GeneratedFile[] {
  const e = linearEngineContext(p.engine);
  return [
    renderVerilog(r, path.join(here, "synPool.v.hbs"), `${p.module}.v`, `synaptic lane pool (${p.engine.lanes} lanes)`, {
      ...streamContext(p),
      module: p.module,
      engineModule: p.engine.module,
      lanes: p.engine.lanes,
      banks: p.banks,
      bankMsb: p.bankBits - 1,
      banksList: [...Array(p.banks).keys()].map((b) => ({ b, lit: `${p.bankBits}'d${b}` })),
      zeroW: `${p.engine.wWordBits}'d0`,
      faninMsb: e.faninMsb,
      tilesMsb: e.tilesMsb,
      wAddrMsb: e.wAddrMsb,
      bAddrMsb: e.bAddrMsb,
      tagMsb: e.tagMsb,
      inMsb: e.inMsb,
      tileIdxMsb: e.tileIdxMsb,
      outBusMsb: e.outBusMsb,
      wWordMsb: e.wWordMsb,
      bWordMsb: e.bWordMsb,
    }),
    ...renderLinearEngine(r, p.engine),
    ...(p.stream ? renderWeightStream(r, p.stream) : []),
  ];
}

/** The pool's host-written memories for a model: weight bank b (wp<b>, weights on chip only) and the biases (bp). */
export function synPoolImages(r: Resolved, p: SynPoolParams, model: Model): Map<string, bigint[]> {
  const img = dataflowImages(r, dataflowGeometry(r), model);
  const mod = (prefix: string) => p.memories.find((m) => m.prefix === prefix)!.mem.module;
  if (p.stream) return new Map<string, bigint[]>([[mod("bp"), img.bp]]);
  return new Map<string, bigint[]>([...img.wp.map((words, b): [string, bigint[]] => [mod(`wp${b}`), words]), [mod("bp"), img.bp]]);
}

/** The block (generator/blocks/block.ts): the shared synaptic lane pool (a linearEngine). */
export const synPoolBlock: Block<SynPoolParams> = {
  name: "synPool",
  golden: "generator/blocks/linearEngine/golden.ts",
  testedBy: ["generator/blocks/dataflow/dataflow.test.ts", "test/e2e.test.ts"],
  params: (r) => synPoolParams(r),
  render: renderSynPool,
  memories: (p) => p.memories,
  images: synPoolImages,
};
