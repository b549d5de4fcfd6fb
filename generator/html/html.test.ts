import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { esc, page, table } from "./html.ts";
import { barChart, niceTicks, rectsSvg, scatter } from "./svg.ts";
import { checkPage, chromiumAvailable } from "./browser.ts";

function demoPage(): string {
  return page({
    title: "st3d <test> page",
    subtitle: "a & b",
    sections: [
      { id: "bars", title: "Bars", html: barChart({ title: "area", categories: ["ctrl", "attn", "moe"], series: [{ name: "2d", values: [1, 2, 3] }, { name: "3d", values: [1, 1.5, 2] }], unit: "µm²", band: { lo: 0.5, hi: 1, label: "published" } }) },
      { id: "stack", title: "Stacked", html: barChart({ title: "power", categories: ["2d"], series: [{ name: "sram", values: [2] }, { name: "logic", values: [3] }], stacked: true }) },
      { id: "scatter", title: "Scatter", html: scatter({ title: "front", xLabel: "cycles", yLabel: "nJ", points: [{ x: 1, y: 3, label: "a", front: true, href: "a/report.html" }, { x: 2, y: 1, label: "b", front: true }, { x: 3, y: 4, label: "c" }], frontLine: true }) },
      { id: "fp", title: "Floorplan", html: rectsSvg({ title: "bottom", dieW: 100, dieH: 50, rects: [{ x: 0, y: 0, w: 50, h: 50, label: "u_ctrl" }, { x: 50, y: 0, w: 50, h: 25, label: "u_mem", group: 1 }] }) },
      { id: "t", title: "Table", html: table(["what", "value"], [["x <y>", 1234567], ["z", 0.000123]]) },
    ],
    footer: "made by a test",
  });
}

describe("html helpers", () => {
  it("escape text and build deterministic pages", () => {
    expect(esc(`<a href="x">&'`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    expect(demoPage()).toBe(demoPage());
    expect(demoPage()).not.toMatch(/<test>/);
    expect(niceTicks(0, 97)).toEqual([0, 20, 40, 60, 80, 100]);
  });

  it("has one bar per (series, category), one point per datum, one block per rect", () => {
    const h = demoPage();
    expect(h.match(/class="bar"/g)?.length).toBe(6 + 2);
    expect(h.match(/class="point/g)?.length).toBe(3);
    expect(h.match(/class="point front"/g)?.length).toBe(2);
    expect(h.match(/class="block"/g)?.length).toBe(2);
  });

  it.runIf(chromiumAvailable())("opens in headless Chromium with no console error and no external request", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-html-"));
    const f = path.join(dir, "p.html");
    fs.writeFileSync(f, demoPage());
    const res = await checkPage(f, ["rect.bar", "circle.point.front", "svg.floorplan rect.block", "table"], { screenshot: path.join(dir, "p.png") });
    expect(res.errors).toEqual([]);
    expect(res.external).toEqual([]);
    expect(res.counts).toEqual({ "rect.bar": 8, "circle.point.front": 2, "svg.floorplan rect.block": 2, table: 1 });
    expect(res.title).toBe("st3d <test> page");
    expect(fs.statSync(path.join(dir, "p.png")).size).toBeGreaterThan(1000);
  });

  it.runIf(chromiumAvailable())("reports a page error (the check can fail)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-html-"));
    const f = path.join(dir, "bad.html");
    fs.writeFileSync(f, "<html><body><script>undefinedFunction()</script></body></html>");
    const res = await checkPage(f, []);
    expect(res.errors.length).toBe(1);
  });
});
