/**
 * hardware.weightsOnChip / weightBuffer / offchipBeatBits (issue #17): defaults, the default
 * beat width rule, and validate's messages (a buffer smaller than the working set names the
 * largest layer, its words and bits, and the value to set; options that need streaming).
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../generator/config/load.ts";
import { beatOverhead, defaultBeatBits, resolve, resolveInput } from "../generator/config/resolve.ts";
import { configReference } from "../generator/config/reference.ts";

const tinyUser = () => JSON.parse(JSON.stringify(loadConfig("tiny")));
const refused = (cfg: unknown): ConfigError => {
  try {
    parseConfig(cfg, "t.yaml");
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("accepted");
};

describe("hardware.weightsOnChip and the weight buffer", () => {
  it("defaults: weights on chip, the buffer = the largest layer double-buffered", () => {
    const r = resolve(loadConfig("tiny"));
    const w = r.hw.weights;
    expect(w.onChip).toBe(true);
    // tiny: P = 4, D = F = 8: tilesD = tilesF = 2, every layer 16 words of 32 bits
    expect(w.wordBits).toBe(32);
    expect(w.largestLayer).toEqual({ name: "q/k/v/o", words: 16 });
    expect(w.bufferBits).toBe(2 * 16 * 32);
    expect(w.halfDepth).toBe(16);
    expect(w.beatBits).toBe(32);
    expect(w.overhead).toBe(0);
    // the user config is unchanged by the new (optional) fields: the hash stays
    expect(r.user.hardware.weightsOnChip).toBeUndefined();
  });

  it("the default beat: widest with overhead <= 5 %, else the least overhead", () => {
    expect(defaultBeatBits(32)).toBe(32);
    expect(defaultBeatBits(616)).toBe(128); // 616/128: 3.9 %; 256: 24.7 %
    expect(defaultBeatBits(1024)).toBe(512);
    expect(defaultBeatBits(40)).toBe(64); // 40 bits: 32 -> 60 %, 64 -> 60 %, 128 -> 220 %: the wider of the ties
    expect(beatOverhead(40, 64)).toBeCloseTo(0.6, 12);
    expect(beatOverhead(616, 128)).toBeCloseTo(640 / 616 - 1, 12);
    for (const wb of [8, 24, 32, 40, 77 * 8, 79 * 8, 100, 1000]) {
      const W = defaultBeatBits(wb);
      const ok = [512, 256, 128, 64, 32].filter((x) => beatOverhead(wb, x) <= 0.05 + 1e-12);
      if (ok.length) expect(W).toBe(ok[0]);
      else expect(beatOverhead(wb, W)).toBe(Math.min(...[512, 256, 128, 64, 32].map((x) => beatOverhead(wb, x))));
    }
  });

  it("largest layer: fc1 / fc2 when F > D", () => {
    const r = resolveInput({ name: "w", model: { dim: 8, heads: 2, expertHidden: 20, tokens: 2, timesteps: 1, blocks: 1, experts: 2, topK: 1 }, hardware: { synapticLanes: 8, weightsOnChip: false } });
    // P: budget 8 - router 2 = 6 -> trimmed: tilesD = 2, tilesF = 4 -> P = 5 (ceil(8/5) = 2, ceil(20/5) = 4)
    const P = r.hw.poolLanes;
    const tD = Math.ceil(8 / P);
    const tF = Math.ceil(20 / P);
    const words = Math.max(tD * 8, tF * 8, tD * 20);
    expect(r.hw.weights.largestLayer.words).toBe(words);
    expect(r.hw.weights.largestLayer.name).toBe(tF * 8 >= tD * 20 && tF * 8 > tD * 8 ? "fc1" : "fc2");
    expect(r.hw.weights.bufferBits).toBe(2 * words * P * 8);
  });

  it("a buffer just one working set is accepted; one bit less is refused with the layer, its words and bits, and the value", () => {
    const c = tinyUser();
    c.hardware.weightsOnChip = false;
    c.hardware.weightBuffer = 1024;
    expect(resolve(parseConfig(c, "t")).hw.weights.halfDepth).toBe(16);
    c.hardware.weightBuffer = 1023;
    const e = refused(c);
    expect(e.issues).toHaveLength(1);
    expect(e.issues[0].field).toBe("hardware.weightBuffer");
    expect(e.message).toContain("q/k/v/o");
    expect(e.message).toContain("16 words of 32 bits = 512 bits");
    expect(e.message).toContain("set hardware.weightBuffer to at least 1024");
    expect(e.issues[0].valid).toBe(">= 1024");
  });

  it("weightBuffer / offchipBeatBits without streaming are refused, naming the field", () => {
    const c = tinyUser();
    c.hardware.weightBuffer = 4096;
    c.hardware.offchipBeatBits = 64;
    const e = refused(c);
    expect(e.issues.map((p) => p.field).sort()).toEqual(["hardware.offchipBeatBits", "hardware.weightBuffer"]);
    expect(e.message).toContain("weightsOnChip: false");
  });

  it("an invalid beat width or a non-boolean weightsOnChip is a schema error on the field", () => {
    const c = tinyUser();
    c.hardware.weightsOnChip = false;
    c.hardware.offchipBeatBits = 100;
    expect(refused(c).issues[0].field).toBe("hardware.offchipBeatBits");
    const d = tinyUser();
    d.hardware.weightsOnChip = "no";
    expect(refused(d).issues[0].field).toBe("hardware.weightsOnChip");
  });

  it("the config reference documents the three fields", () => {
    const ref = configReference();
    for (const k of ["hardware.weightsOnChip", "hardware.weightBuffer", "hardware.offchipBeatBits"]) expect(ref).toContain(`\`${k}\``);
    expect(ref).toContain("true (the default; the presets' measured figures are of this design)");
  });
});

describe("off-chip DRAM energy (cited constant)", () => {
  it("1.3 nJ per 64-bit access (Horowitz, ISSCC 2014), the high end 2.6 nJ; bytes / 8 accesses", async () => {
    const { DRAM_ENERGY_64, DRAM_ENERGY_64_HIGH, dramEnergyPj } = await import("../generator/report/constants.ts");
    expect(DRAM_ENERGY_64).toMatchObject({ value: 1300, unit: "pJ per 64-bit access" });
    expect(DRAM_ENERGY_64_HIGH).toMatchObject({ value: 2600, unit: "pJ per 64-bit access" });
    for (const c of [DRAM_ENERGY_64, DRAM_ENERGY_64_HIGH]) expect(c.source).toMatch(/Horowitz, 'Computing's energy problem \(and what we can do about it\)', ISSCC 2014 \(45 nm\)/);
    expect(dramEnergyPj(0)).toEqual({ accesses: 0, pj: 0, pjHigh: 0 });
    // tiny streamed, all experts routed: 1536 bytes = 192 accesses
    expect(dramEnergyPj(1536)).toEqual({ accesses: 192, pj: 192 * 1300, pjHigh: 192 * 2600 });
  });
});
