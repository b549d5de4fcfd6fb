import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { progress } from "./progress.ts";

function sink() {
  const lines: { t: number; s: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push({ t: Date.now(), s: String(chunk) });
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  return { stream, lines };
}

describe("progress (plain mode)", () => {
  it("prints a start line, a heartbeat while nothing advances, and a done line", async () => {
    const { stream, lines } = sink();
    const p = progress("work", { total: 3, unit: "items", stream, intervalMs: 300 });
    await new Promise((r) => setTimeout(r, 800));
    p.tick(1, "a");
    p.done("finished");
    const text = lines.map((l) => l.s).join("");
    expect(text).toMatch(/^\[work\] started \(3 items\)\n/);
    expect(text).toMatch(/\[work\] \.\.\. still working \(0\/3 items/);
    expect(text).toMatch(/\[work\] finished \(/);
    // never silent for more than ~interval
    for (let i = 1; i < lines.length; i++) expect(lines[i].t - lines[i - 1].t).toBeLessThan(700);
  });

  it("ST3D_PROGRESS=0 silences it", () => {
    const { stream, lines } = sink();
    process.env.ST3D_PROGRESS = "0";
    try {
      const p = progress("quiet", { stream });
      p.tick();
      p.done();
    } finally {
      delete process.env.ST3D_PROGRESS;
    }
    expect(lines).toEqual([]);
  });
});
