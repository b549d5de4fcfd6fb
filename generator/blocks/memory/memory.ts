/**
 * memory — a logical memory (./ram1r1w.ts: the st3d 1R1W pins, read latency 1) mapped onto
 * fakeram45-style SRAM macros or flip-flops (./macros.ts, docs/MEMORY.md).  Blocks never hold a
 * memory: they reach one through `<prefix>_*` pins (BlockMemory) and the top instantiates it;
 * design.ts renders every memory's views (wrapper, macro models and stubs, macros.json) at once
 * with memoryViews().  Pin check of the views: ./pins.ts; SRAM area/timing model: ./sram.ts.
 * Tests: ./memory.test.ts (testbench ./memory_tb.v.hbs + ./testbench.ts).
 */
import type { Block } from "../block.ts";
import { planMemory, renderWrapper, type MemoryPlan } from "./macros.ts";
import type { LogicalMemory } from "./ram1r1w.ts";

/**
 * The block (generator/blocks/block.ts): params = the mapping of one logical memory onto macros
 * or flops, render = its pin-stable wrapper (the macro models and stubs are shared by every
 * memory of a design: memoryViews).  Its reference is the behavioral ram1r1w model.
 */
export const memoryBlock: Block<MemoryPlan, LogicalMemory> = {
  name: "memory",
  golden: "generator/blocks/memory/ram1r1w.ts",
  testedBy: ["generator/blocks/memory/memory.test.ts"],
  params: planMemory,
  render: (r, p) => [renderWrapper(r, p)],
  memories: () => [],
};
