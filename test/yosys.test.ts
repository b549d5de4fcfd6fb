/**
 * Yosys: Debian's binary, or the WebAssembly fallback @yowasp/yosys when it is not on PATH
 * (ST3D_YOSYS=wasm forces it).  The fallback gives the same cells as the binary and detects
 * latches; without either, the error says how to install Debian's Yosys.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { yosysSynth } from "../generator/toolchain/yosys.ts";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "st3d-yosys-"));
const saved = process.env.ST3D_YOSYS;
afterEach(() => {
  if (saved === undefined) delete process.env.ST3D_YOSYS;
  else process.env.ST3D_YOSYS = saved;
});

describe("yosys fallback (@yowasp/yosys)", () => {
  it("synthesizes like Debian's yosys, and finds a latch", async () => {
    const d = tmp();
    const a = path.join(d, "counter.v");
    fs.writeFileSync(a, "module counter(input clk, input rst, input [3:0] d, output reg [3:0] q);\n  always @(posedge clk) if (rst) q <= 4'd0; else q <= q + d;\nendmodule\n");
    const l = path.join(d, "lat.v");
    fs.writeFileSync(l, "module lat(input en, input d, output reg q);\n  always @* if (en) q = d;\nendmodule\n");
    process.env.ST3D_YOSYS = "wasm";
    const w = await yosysSynth([a], "counter", path.join(d, "w"));
    const wl = await yosysSynth([l], "lat", path.join(d, "wl"));
    process.env.ST3D_YOSYS = "native";
    const n = await yosysSynth([a], "counter", path.join(d, "n"));
    const nl = await yosysSynth([l], "lat", path.join(d, "nl"));
    expect(nl.latches).toBeGreaterThan(0);
    expect(w.ok).toBe(true);
    expect(w.totalCells).toBeGreaterThan(4);
    expect(w.cells["$_SDFF_PP0_"] ?? w.cells["$_DFF_P_"] ?? 0).toBeGreaterThan(0);
    expect(w.totalCells).toBe(n.totalCells);
    expect(w.cells).toEqual(n.cells);
    expect(fs.existsSync(path.join(d, "w", "yosys.log"))).toBe(true);
    expect(wl.latches).toBeGreaterThan(0);
  });

  it("without any yosys: says how to install Debian's", async () => {
    const d = tmp();
    const script = path.join(d, "s.mts");
    fs.writeFileSync(
      script,
      `import { yosysSynth } from ${JSON.stringify(path.resolve("generator/toolchain/yosys.ts"))};
       try { await yosysSynth([], "x", ${JSON.stringify(path.join(d, "w"))}); } catch (e) { console.log(e.name + ": " + e.message); }`,
    );
    const r = await execa(process.execPath, ["--import", "tsx", script], { env: { PATH: path.join(d, "empty"), ST3D_YOSYS: "native" }, extendEnv: false, reject: false, all: true });
    expect(r.all).toMatch(/ToolMissingError: yosys not found\. Fix: install Debian's Yosys: sudo apt-get install -y yosys/);
  });
});
