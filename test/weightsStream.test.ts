/**
 * Weights from off-chip memory (hardware.weightsOnChip false, issue #17), end to end:
 *  - the generated design: lint -Wall clean, no latch in the pool (weight stream) and the dataflow
 *    unit (descriptor sequencer), deterministic, the AXI4 read master on the chip pins wm_*, the
 *    buffer halves on the top die in memory-on-logic;
 *  - (./weightsStreamRuns.ts, Icarus here, Verilator in ./weightsStream.verilator.test.ts)
 *    `st3d run` with the testbench's off-chip memory model at several latencies and bandwidths, on
 *    Icarus and Verilator: U after every half of every block and the output equal the golden model
 *    value for value; the beats and bursts ctrl counts equal the memory model's handshakes and the
 *    exact traffic of the golden routing (each used layer once, an unrouted expert never);
 *    bytesRead = weightBytes x (1 + overhead); cycles >= the exact on-chip cycle model; the
 *    WWAIT counter equals the pool's waitW class; fewer host writes than on chip;
 *  - a reference vector with streaming equals its expected.npy; a wrong off-chip image fails.
 */
import fs from "node:fs";
import path from "node:path";
import { execa } from "execa";
import YAML from "yaml";
import { describe, expect, it } from "vitest";
import { configs, streamRuns, tmp } from "./weightsStreamRuns.ts";
import { randomModel } from "../generator/model/tensors.ts";
import { buildAccelerator } from "../generator/top/accelerator.ts";
import { hostProgram } from "../generator/run/host.ts";
import { yosysSynth } from "../generator/toolchain/yosys.ts";

const ST3D = path.resolve("bin/st3d.js");

describe("weights off chip: the generated design", () => {
  it("lint -Wall clean, wm_* chip pins, the buffer on the top die (memory-on-logic), deterministic; no latch (yosys)", async () => {
    const dir = tmp("gen");
    const cfg = path.join(dir, "c.yaml");
    fs.writeFileSync(cfg, YAML.stringify(configs.tiny.st.user));
    for (const o of ["a", "b"]) {
      const g = await execa("node", [ST3D, "generate", cfg, "-o", path.join(dir, o)], { reject: false, all: true });
      expect(g.exitCode, g.all).toBe(0);
    }
    const a = path.join(dir, "a");
    const files = fs.readdirSync(a).filter((f) => f.endsWith(".v"));
    for (const f of files) expect(fs.readFileSync(path.join(dir, "b", f), "utf8"), f).toBe(fs.readFileSync(path.join(a, f), "utf8"));
    const lint = await execa("node", [ST3D, "lint", a], { reject: false, all: true });
    expect(lint.exitCode, lint.all).toBe(0);
    expect(lint.all).toMatch(/0 warnings/);
    const n = "st3d_tinyws";
    const top = fs.readFileSync(path.join(a, `${n}_top.v`), "utf8");
    for (const pin of ["wm_araddr", "wm_arlen", "wm_arsize", "wm_arburst", "wm_arvalid", "wm_arready", "wm_rdata", "wm_rlast", "wm_rvalid", "wm_rready"]) expect(top).toMatch(new RegExp(`(input|output)\\s+wire\\s+(\\[\\d+:0\\]\\s+)?${pin}\\b`));
    expect(top).not.toMatch(/_mem_wp\d/);
    const tierTop = fs.readFileSync(path.join(a, `${n}_tier_top.v`), "utf8");
    const tierBot = fs.readFileSync(path.join(a, `${n}_tier_bottom.v`), "utf8");
    for (const h of [0, 1]) {
      expect(tierTop).toContain(`${n}_mem_wbuf${h} u_mem_p_wb${h}`);
      expect(tierBot).not.toContain(`${n}_mem_wbuf${h}`);
    }
    // the sequencer (dataflow) and the pool with its weight stream: no latch
    const rtl = files.filter((f) => !/tier|_3d\.v|_top\.v|_mem_/.test(f)).map((f) => path.join(a, f));
    for (const mod of [`${n}_synPool`, `${n}_dataflow`, `${n}_ctrl`]) {
      const y = await yosysSynth(rtl, mod, path.join(dir, `y_${mod}`));
      expect(y.ok, mod).toBe(true);
      expect(y.latches, mod).toBe(0);
    }
  }, 240_000);

  it("the on-chip design has no weight stream, and its host program writes the pool weights", () => {
    const on = buildAccelerator(configs.tiny.on);
    const st = buildAccelerator(configs.tiny.st);
    expect(on.logicFiles.some((f) => f.path.includes("weightStream"))).toBe(false);
    expect(on.netlist.ports.some((p) => p.name.startsWith("wm_"))).toBe(false);
    expect(st.logicFiles.some((f) => f.path === "st3d_tinyws_weightStream.v")).toBe(true);
    const { model, input } = randomModel(configs.tiny.on, 3, 0.3);
    const w = configs.tiny.on.hw.weights;
    // on chip: the banks' words (one 32-bit field each on tiny) are host writes; off chip they are not
    expect(hostProgram(on, model, input).writes - hostProgram(st, model, input).writes).toBe(w.imageWords * Math.ceil(w.wordBits / 32));
  });
});

streamRuns(["icarus"]);
