/**
 * rtl-out/ holds the committed RTL of the default preset.  Regenerating it must change
 * nothing (byte for byte), generation must be deterministic, and the result must be
 * lint-clean under verilator -Wall.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { buildDesign } from "../generator/design.ts";
import { listFiles, makeManifest, MANIFEST } from "../generator/output.ts";
import { verilatorLint } from "../generator/toolchain/verilator.ts";

const design = () => buildDesign(resolve(loadConfig("default")));

describe("rtl-out (default preset)", () => {
  it("is exactly what the generator produces now (run 'npm run regen' after a change)", () => {
    const d = design();
    const committed = listFiles("rtl-out").filter((f) => f !== MANIFEST);
    expect(committed).toEqual(d.files.map((f) => f.path).sort());
    for (const f of d.files) expect(fs.readFileSync(path.join("rtl-out", f.path), "utf8"), f.path).toBe(f.content);
    const m = JSON.parse(fs.readFileSync(path.join("rtl-out", MANIFEST), "utf8"));
    expect(m.files).toEqual(makeManifest(d.files, { generator: "", design: "", configHash: "", tops: [] }).files);
  });

  it("is deterministic: the same config gives byte-identical files", () => {
    const a = design().files;
    const b = design().files;
    expect(b).toEqual(a);
  });

  it("lints clean with verilator -Wall for every top", async () => {
    const m = JSON.parse(fs.readFileSync(path.join("rtl-out", MANIFEST), "utf8"));
    const files = m.files.filter((f: { kind: string; path: string }) => (f.kind === "rtl" || f.kind === "sim") && f.path.endsWith(".v")).map((f: { path: string }) => path.join("rtl-out", f.path));
    expect(m.tops.length).toBeGreaterThan(0);
    for (const top of m.tops) {
      const r = await verilatorLint(files, top);
      expect(r.warnings, `${top}\n${r.output}`).toEqual([]);
    }
  });

  it("every generated file starts with the generator version and config hash", () => {
    const d = design();
    for (const f of d.files.filter((x) => x.path.endsWith(".v"))) expect(f.content.split("\n")[1]).toMatch(new RegExp(`st3d ${d.r.version} .*config hash ${d.r.hash}`));
  });
});
void os;

describe("README config reference", () => {
  it("is generated from the current schema (run 'npm run docs')", async () => {
    const { replaceReference } = await import("../generator/config/reference.ts");
    const readme = fs.readFileSync("README.md", "utf8");
    expect(replaceReference(readme)).toBe(readme);
  });
});
