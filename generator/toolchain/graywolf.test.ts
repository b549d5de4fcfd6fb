/**
 * GrayWolf read-back (the report's wirelength calibration, docs/REPORT.md "Calibration"):
 * coordinate units from the LEF by blif2cel's rule, half-perimeter wirelength from a .pin
 * file, and a real placement of a small OSU018 netlist (its cell box must hold the cells'
 * LEF area at a plausible density: a wrong unit scale fails by a factor of 100).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { celUnits, graywolfPlace, hpwlFromPin, QFLOW_SCRIPTS } from "./graywolf.ts";
import { OSU018_DIR } from "../physical/library.ts";

const LEF = path.join(OSU018_DIR, "osu018_stdcells.lef");
const LIB = path.join(OSU018_DIR, "osu018_stdcells.lib");
const PAR = path.join(OSU018_DIR, "osu018.par");
const haveOsu = fs.existsSync(LEF) && fs.existsSync(LIB) && fs.existsSync(PAR);
const haveGraywolf = haveOsu && fs.existsSync(path.join(QFLOW_SCRIPTS, "blif2cel.tcl")) && (process.env.PATH ?? "").split(":").some((d) => fs.existsSync(path.join(d, "graywolf")));

describe("GrayWolf read-back", () => {
  it("half-perimeter of every net from the .pin file, feedthroughs left out", () => {
    const pin = [
      "n1 1 INVX1_1 A 0 0 1 1 1",
      "n1 2 INVX1_2 Y 300 100 1 1 1",
      "n1 3 INVX1_3 A 100 400 1 1 1",
      "n1 4 INVX1_9 twfeed1 9000 9000 1 1 1",
      "n2 5 INVX1_2 A 50 50 1 1 1",
      "n2 6 INVX1_3 Y 250 50 1 1 1",
    ].join("\n");
    const h = hpwlFromPin(pin, 100);
    // n1: (300 - 0) + (400 - 0) = 700; n2: 200 + 0 = 200 -> 900 units = 9 um
    expect(h.nets).toBe(2);
    expect(h.hpwlUm).toBeCloseTo(9, 9);
  });

  it.runIf(haveOsu)("OSU018 coordinates are centimicrons (MANUFACTURINGGRID 0.05 um), not the LEF's DATABASE MICRONS", () => {
    expect(celUnits(LEF)).toBe(100);
  });

  it.runIf(haveGraywolf)("places a 16-inverter chain: finished, every cell, a cell box at a plausible density", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-gw-"));
    try {
      const n = 16;
      const body = Array.from({ length: n }, (_, i) => `  INVX1 u${i} (.A(${i === 0 ? "a" : `n${i}`}), .Y(${i === n - 1 ? "y" : `n${i + 1}`}));`);
      const v = path.join(dir, "chain.v");
      fs.writeFileSync(v, `module chain (a, y);\n  input a;\n  output y;\n${Array.from({ length: n - 1 }, (_, i) => `  wire n${i + 1};`).join("\n")}\n${body.join("\n")}\nendmodule\n`);
      const res = await graywolfPlace({ verilog: v, module: "chain", liberty: LIB, lef: LEF, par: PAR, dir: path.join(dir, "place"), timeoutMs: 120_000 });
      expect(res.finished).toBe(true);
      expect(res.cells).toBe(n);
      // INVX1 is 1.6 um x 10 um in the LEF: the placed box holds 16 x 16 um^2 at a density between 5 % and 100 %
      const cellArea = n * 1.6 * 10;
      expect(res.cellBoxUm2!).toBeGreaterThanOrEqual(cellArea * 0.999);
      expect(res.cellBoxUm2!).toBeLessThan(cellArea * 20);
      // n + 1 nets (a, n1..n15, y minus the pads' own) each at least one cell pitch apart, at most the box's half perimeter
      expect(res.hpwlUm!).toBeGreaterThan(n * 1.0);
      expect(res.hpwlUm!).toBeLessThan((n + 1) * 2 * Math.sqrt(res.cellBoxUm2!) * 2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
