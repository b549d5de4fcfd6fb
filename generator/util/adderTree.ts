/**
 * Balanced adder tree counting the ones of n one-bit leaf expressions (a popcount),
 * built in TypeScript and printed by the templates as one `wire` per adder:
 *
 *   wire [msb:0] name = a + b;
 *
 * Leaves are added pairwise, level by level; an odd one out at the end of a level moves
 * up unchanged.  Every node is an unsigned adder exactly as wide as its largest value
 * (cap = number of leaves under it) needs, and its operands are already zero-extended to
 * that width.  Node names are `${prefix}${level}_${index}` (level from 1), so a prefix
 * that is unique within the module gives unique wire names.  A single leaf needs no
 * adder: the root is the leaf itself (1 bit).
 */
import { zext } from "../render/verilog.ts";
import { unsignedBitsFor } from "./bits.ts";

/** One adder of the tree: `name = a + b`, a and b already zero-extended to `bits`. */
export interface AdderTreeNode {
  name: string;
  /** width of the node: unsignedBitsFor(cap) */
  bits: number;
  /** bits - 1 */
  msb: number;
  /** largest value the node can hold (number of leaves under it) */
  cap: number;
  a: string;
  b: string;
  /** 1 for adders of two leaves, up to `levels` for the root */
  level: number;
}

export interface AdderTree {
  /** the adders in declaration order (every operand is declared before it is used) */
  nodes: AdderTreeNode[];
  /** the count: a node name, or the single leaf; `bits` wide, values 0..cap (= n) */
  root: { expr: string; bits: number; cap: number };
  /** adder levels (0 for a single leaf) */
  levels: number;
}

/** The one-bit leaves `bus[0] .. bus[n-1]` of a vector. */
export function busBits(bus: string, n: number): string[] {
  if (!Number.isInteger(n) || n < 1) throw new Error(`busBits: ${n} bits of ${bus}`);
  return [...Array(n).keys()].map((i) => `${bus}[${i}]`);
}

/** Balanced popcount tree over the one-bit expressions `leaves` (see the file comment). */
export function adderTree(leaves: readonly string[], prefix: string): AdderTree {
  if (leaves.length < 1) throw new Error(`adderTree ${prefix}: no leaves`);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) throw new Error(`adderTree: prefix '${prefix}' is not a Verilog identifier`);
  let cur: AdderTree["root"][] = leaves.map((expr) => ({ expr, bits: 1, cap: 1 }));
  const nodes: AdderTreeNode[] = [];
  let level = 0;
  while (cur.length > 1) {
    level++;
    const next: AdderTree["root"][] = [];
    for (let i = 0; i + 1 < cur.length; i += 2) {
      const a = cur[i];
      const b = cur[i + 1];
      const cap = a.cap + b.cap;
      const bits = unsignedBitsFor(cap);
      const name = `${prefix}${level}_${i / 2}`;
      nodes.push({ name, bits, msb: bits - 1, cap, a: zext(a.expr, a.bits, bits), b: zext(b.expr, b.bits, bits), level });
      next.push({ expr: name, bits, cap });
    }
    if (cur.length % 2) next.push(cur[cur.length - 1]);
    cur = next;
  }
  return { nodes, root: cur[0], levels: level };
}
