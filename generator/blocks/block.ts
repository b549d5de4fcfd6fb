/**
 * The shape every hardware block shares (README.md "How a block is laid out"; the how-to in
 * docs/ARCHITECTURE.md "How to add a block").  A block is a folder generator/blocks/<name>/
 * whose <name>.ts exports `<name>Block`: a Block, i.e. how to derive its parameters from the
 * resolved config, how to render its files, which logical memories it reaches through pins,
 * and (when it has one) its cycle model.  The top (generator/top/accelerator.ts) lists its
 * blocks and loops over them; test/blocks.test.ts walks every folder and checks this shape.
 */
import type { Resolved } from "../config/resolve.ts";
import type { GeneratedFile } from "../core/files.ts";
import type { LogicalMemory } from "./memory/ram1r1w.ts";
import type { Model } from "../model/golden.ts";

export type PortDir = "input" | "output";

/** One port of a module: the declaration the netlist, the halves and the testbenches share. */
export interface PortDecl {
  name: string;
  dir: PortDir;
  width: number;
}
/** A block's port (the same declaration). */
export type BlockPort = PortDecl;

/** A logical memory a block reaches through the pins `<prefix>_re, _raddr, _rdata` (+ `_we, _waddr, _wdata, _wmask` when access is "rw"). */
export interface BlockMemory {
  mem: LogicalMemory;
  prefix: string;
  /** "rw": the block drives both ports; "read": only re/raddr/rdata (the host writes it) */
  access: "rw" | "read";
  /** the host loads it before an inference (weights, biases): the top gives its write port to ctrl */
  hostWritable: boolean;
  /** what it holds, in words (reports, docs) */
  role: string;
  /** expert core of a per-core memory */
  core?: number;
}

/**
 * A hardware block.
 * @typeParam P its parameters (every width, depth and count, derived in TypeScript)
 * @typeParam O options of `params` beyond the resolved config (a tag, a fan-in, ...), `void` when none
 * @typeParam W the work its cycle model counts (rows and spikes ...), `never` without a cycle model
 * @typeParam C what its cycle model returns
 */
export interface Block<P extends object, O = void, W = never, C = number> {
  /** the folder name under generator/blocks/ */
  name: string;
  /** repo-relative path of the golden model the block is checked against, or null when it computes nothing of SPEC (ctrl, memory) */
  golden: string | null;
  /** repo-relative paths of the tests that simulate it (its own <name>.test.ts, or its parent's) */
  testedBy: string[];
  params(r: Resolved, opts: O): P;
  /** its module and every submodule it instantiates (never a memory: memories are the top's) */
  render(r: Resolved, p: P): GeneratedFile[];
  /** the memories it reaches through pins, in port order */
  memories(p: P): BlockMemory[];
  /** the words of its host-written memories for a model (memory module -> words), when it has any */
  images?(r: Resolved, p: P, model: Model): Map<string, bigint[]>;
  /** its cycle model, when the block has one */
  cycles?(p: P, work: W): C;
}

/** The ports `<prefix>_*` of a block memory, seen from the block (outputs drive the memory). */
export function memoryPins(m: BlockMemory): PortDecl[] {
  const a = m.mem.addrBits;
  const w = m.mem.width;
  const ports: PortDecl[] = [
    { name: `${m.prefix}_re`, dir: "output", width: 1 },
    { name: `${m.prefix}_raddr`, dir: "output", width: a },
    { name: `${m.prefix}_rdata`, dir: "input", width: w },
  ];
  if (m.access === "rw")
    ports.push(
      { name: `${m.prefix}_we`, dir: "output", width: 1 },
      { name: `${m.prefix}_waddr`, dir: "output", width: a },
      { name: `${m.prefix}_wdata`, dir: "output", width: w },
      { name: `${m.prefix}_wmask`, dir: "output", width: w },
    );
  return ports;
}

/** The pins of a logical memory module itself (clk, then the read and the write port). */
export function memoryModulePorts(m: LogicalMemory): PortDecl[] {
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

