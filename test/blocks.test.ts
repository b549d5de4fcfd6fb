/**
 * The layout rule of README.md "How a block is laid out", checked on every folder under
 * generator/blocks/: a block is its folder, `<block>.ts` exports `<block>Block` (the shape of
 * generator/blocks/block.ts), every template is rendered by the folder's TypeScript, the golden
 * model and the tests the block names exist, and production code never imports the simulation
 * harness.  Plus: the top lists its blocks in one place (TOP_BLOCKS) and builds from that list.
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../generator/core/paths.ts";
import type { Block } from "../generator/blocks/block.ts";
import { TOP_BLOCKS, buildAccelerator } from "../generator/top/accelerator.ts";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";

const BLOCKS_DIR = path.join(REPO_ROOT, "generator/blocks");
const folders = fs
  .readdirSync(BLOCKS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/** Files of a folder a block may hold: TypeScript modules and Verilog templates, nothing else. */
const ALLOWED = /\.(ts|v\.hbs)$/;
const isTest = (f: string) => f.endsWith(".test.ts");
const isTb = (f: string) => f === "testbench.ts" || /_tb(_\w+)?\.v\.hbs$/.test(f);

describe("every block folder follows the layout rule of README.md", () => {
  it("finds the blocks", () => {
    expect(folders).toEqual(expect.arrayContaining(["attentionCore", "ctrl", "dataflow", "lifArray", "linearEngine", "memory", "synPool", "topkRouter"]));
  });

  for (const name of folders) {
    describe(name, () => {
      const dir = path.join(BLOCKS_DIR, name);
      const files = fs.readdirSync(dir).sort();
      const ts = files.filter((f) => f.endsWith(".ts"));
      const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");

      it("holds only TypeScript and Verilog templates", () => {
        expect(files.filter((f) => !ALLOWED.test(f))).toEqual([]);
      });

      it(`${name}.ts exports ${name}Block, a Block named after its folder`, async () => {
        expect(files).toContain(`${name}.ts`);
        const mod = (await import(path.join(dir, `${name}.ts`))) as Record<string, unknown>;
        const block = mod[`${name}Block`] as Block<object, unknown, unknown, unknown> | undefined;
        expect(block, `${name}.ts must export ${name}Block`).toBeDefined();
        expect(block!.name).toBe(name);
        for (const fn of ["params", "render", "memories"] as const) expect(typeof block![fn], fn).toBe("function");
        if (block!.cycles !== undefined) expect(typeof block!.cycles).toBe("function");
      });

      it("names a golden model that exists (golden.ts when the folder has one)", async () => {
        const block = ((await import(path.join(dir, `${name}.ts`))) as Record<string, Block<object, unknown, unknown, unknown>>)[`${name}Block`];
        if (files.includes("golden.ts")) expect(block.golden).toBe(`generator/blocks/${name}/golden.ts`);
        if (block.golden !== null) expect(fs.existsSync(path.join(REPO_ROOT, block.golden)), block.golden).toBe(true);
        else expect(["ctrl"], `${name}: only blocks that compute nothing of SPEC have no golden model`).toContain(name);
      });

      it("is simulated by the tests it names; its own test and testbench go together", async () => {
        const block = ((await import(path.join(dir, `${name}.ts`))) as Record<string, Block<object, unknown, unknown, unknown>>)[`${name}Block`];
        expect(block.testedBy.length).toBeGreaterThan(0);
        for (const t of block.testedBy) {
          expect(fs.existsSync(path.join(REPO_ROOT, t)), t).toBe(true);
          const text = fs.readFileSync(path.join(REPO_ROOT, t), "utf8");
          // the test reaches the block: it imports from the block's folder (its own test: any module
          // of the folder), names the block's module, or simulates the whole design
          const own = t.startsWith(`generator/blocks/${name}/`) && /from "\.\/[\w.]+\.ts"/.test(text);
          expect(own || text.includes(`blocks/${name}/`) || text.includes(`"../${name}/`) || text.includes(`_${name}`) || /buildDesign|st3dRun/.test(text), `${t} does not exercise ${name}`).toBe(true);
        }
        const tests = files.filter(isTest);
        expect(tests.filter((f) => f !== `${name}.test.ts`), "a block's test is <block>.test.ts").toEqual([]);
        if (tests.length) expect(block.testedBy).toContain(`generator/blocks/${name}/${name}.test.ts`);
        const tbs = files.filter((f) => f.endsWith(".v.hbs") && isTb(f));
        for (const f of tbs) expect(f.startsWith(`${name}_tb`), `testbench template ${f} is named ${name}_tb*.v.hbs`).toBe(true);
        expect(tbs.length > 0, "testbench templates come with testbench.ts").toBe(files.includes("testbench.ts"));
        if (tbs.length) expect(tests, "a testbench comes with the block's test").toEqual([`${name}.test.ts`]);
      });

      it("renders every template of the folder from its TypeScript", () => {
        const code = ts.map(read).join("\n");
        for (const t of files.filter((f) => f.endsWith(".v.hbs"))) expect(code.includes(`"${t}"`), `${t} is rendered by no .ts of ${name}/`).toBe(true);
        expect(files.filter((f) => f.endsWith(".v.hbs") && !isTb(f)).length, "the block has a template").toBeGreaterThan(0);
      });

      it("keeps the simulation harness out of its generator code", () => {
        for (const f of ts.filter((x) => !isTest(x) && x !== "testbench.ts")) expect(read(f), f).not.toMatch(/sim\/harness\.ts/);
      });
    });
  }
});

describe("the top lists its blocks once and builds from that list", () => {
  it("TOP_BLOCKS are block folders, and each is instantiated with its memories", () => {
    const acc = buildAccelerator(resolve(loadConfig("tiny")));
    for (const t of TOP_BLOCKS) {
      expect(folders).toContain(t.block.name);
      const inst = acc.netlist.instances.find((i) => i.name === t.inst);
      expect(inst, t.inst).toBeDefined();
      const planned = acc.blocks.find((b) => b.entry === t)!;
      for (const m of planned.memories) expect(acc.netlist.instances.some((i) => i.kind === "memory" && i.module === m.mem.module), m.mem.module).toBe(true);
    }
    expect(acc.blocks.map((b) => b.entry)).toEqual([...TOP_BLOCKS]);
  });
});
