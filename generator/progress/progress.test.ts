import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { fmtSeconds, progress } from "./progress.ts";

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

describe("fmtSeconds", () => {
  it("rounds before it splits into minutes and seconds", () => {
    expect([0.04, 9.94, 9.96, 59.4, 59.6, 119.6, 539.6, 3599.6, 3600, 7260].map(fmtSeconds)).toEqual([
      "0.0 s", "9.9 s", "10 s", "59 s", "1 min 0 s", "2 min 0 s", "9 min 0 s", "1 h 0 min", "1 h 0 min", "2 h 1 min",
    ]);
  });
});
