/** `st3d report` refuses bad options before any long work, naming the option and what is valid. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const ST3D = path.resolve("bin/st3d.js");
const st3d = (args: string[]) => execa("node", [ST3D, ...args], { reject: false, all: true });
const out = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "st3d-rcli-")), "rep");

describe("st3d report: usage errors", () => {
  it("--density outside (0, 1)", async () => {
    const r = await st3d(["report", "tiny", "--density", "1.5", "-o", out()]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/--density must be between 0 and 1 \(exclusive\), got '1\.5'/);
  });
  it("--weights without --input, and --density with --weights", async () => {
    const a = await st3d(["report", "tiny", "-w", "somewhere", "-o", out()]);
    expect(a.exitCode).not.toBe(0);
    expect(a.all).toMatch(/--weights and --input go together/);
    const b = await st3d(["report", "tiny", "-w", "w", "-i", "u.npy", "--density", "0.2", "-o", out()]);
    expect(b.exitCode).not.toBe(0);
    expect(b.all).toMatch(/--density makes a random model/);
  });
  it("an unknown view, with the valid ones", async () => {
    const r = await st3d(["report", "tiny", "--views", "2d,stacked", "-o", out()]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/--views: unknown view stacked \(valid: 2d, memory-on-logic, logic-on-logic, auto\)/);
    expect(r.all).not.toMatch(/at .*\.ts:\d+/);
  });
  it("a bad seed", async () => {
    const r = await st3d(["report", "tiny", "--seed", "x1", "-o", out()]);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/--seed must be an integer, got 'x1'/);
  });
});
