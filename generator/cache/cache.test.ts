import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cached, cachedSync, cacheKey, cacheRoot, ENTRY_MARKER } from "./cache.ts";

const tmpRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), "st3d-cache-test-"));

describe("cache", () => {
  it("resolves the root from ST3D_CACHE, else XDG_CACHE_HOME, else ~/.cache", () => {
    const saved = { a: process.env.ST3D_CACHE, b: process.env.XDG_CACHE_HOME };
    try {
      process.env.ST3D_CACHE = "/x/y";
      expect(cacheRoot()).toBe("/x/y");
      delete process.env.ST3D_CACHE;
      process.env.XDG_CACHE_HOME = "/c";
      expect(cacheRoot()).toBe("/c/st3d");
      delete process.env.XDG_CACHE_HOME;
      expect(cacheRoot()).toBe(path.join(os.homedir(), ".cache", "st3d"));
    } finally {
      if (saved.a === undefined) delete process.env.ST3D_CACHE; else process.env.ST3D_CACHE = saved.a;
      if (saved.b === undefined) delete process.env.XDG_CACHE_HOME; else process.env.XDG_CACHE_HOME = saved.b;
    }
  });

  it("builds once, then hits; keys depend on every part", async () => {
    const root = tmpRoot();
    let builds = 0;
    const build = async (d: string) => {
      builds++;
      fs.writeFileSync(path.join(d, "a.txt"), "hello");
      return { n: 42 };
    };
    const a = await cached("k", "key1", build, { root });
    const b = await cached("k", "key1", build, { root });
    expect(a.hit).toBe(false);
    expect(b.hit).toBe(true);
    expect(b.value).toEqual({ n: 42 });
    expect(builds).toBe(1);
    expect(fs.readFileSync(path.join(b.dir, "a.txt"), "utf8")).toBe("hello");
    expect(cacheKey("ab", "c")).not.toBe(cacheKey("a", "bc"));
  });

  it("rebuilds an entry truncated or missing its marker, instead of failing forever", async () => {
    const root = tmpRoot();
    let builds = 0;
    const build = (d: string) => {
      builds++;
      fs.writeFileSync(path.join(d, "bin"), "x".repeat(1000));
      return builds;
    };
    const a = cachedSync("k", "e", build, { root });
    fs.truncateSync(path.join(a.dir, "bin"), 10);
    const b = cachedSync("k", "e", build, { root });
    expect(b.hit).toBe(false);
    expect(fs.statSync(path.join(b.dir, "bin")).size).toBe(1000);
    fs.rmSync(path.join(b.dir, ENTRY_MARKER));
    const c = cachedSync("k", "e", build, { root });
    expect(c.hit).toBe(false);
    expect(builds).toBe(3);
    expect(cachedSync("k", "e", build, { root }).hit).toBe(true);
  });

  it("two concurrent builders of one key both succeed with one published entry", async () => {
    const root = tmpRoot();
    const build = (tag: string) => async (d: string) => {
      await new Promise((r) => setTimeout(r, 50));
      fs.writeFileSync(path.join(d, "f"), tag);
      return tag;
    };
    const [x, y] = await Promise.all([cached("k", "race", build("x"), { root }), cached("k", "race", build("y"), { root })]);
    expect(x.dir).toBe(y.dir);
    const content = fs.readFileSync(path.join(x.dir, "f"), "utf8");
    expect(["x", "y"]).toContain(content);
    expect(fs.readdirSync(path.join(root, "k")).filter((f) => f.startsWith(".tmp"))).toEqual([]);
  });

  it("a failing build leaves nothing behind", async () => {
    const root = tmpRoot();
    await expect(cached("k", "bad", async () => { throw new Error("boom"); }, { root })).rejects.toThrow("boom");
    expect(fs.readdirSync(path.join(root, "k"))).toEqual([]);
  });
});
