import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cached, cachedSync, cacheClean, cacheKey, cacheRoot, cacheUsage, ENTRY_MARKER } from "./cache.ts";

const HERE = path.dirname(new URL(import.meta.url).pathname);
/** pid of a process that has exited */
async function deadPid(): Promise<number> {
  const p = execa("node", ["-e", "0"]);
  await p;
  return p.pid!;
}

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

  it("a corrupt entry is named in the log with its real path, and an extra file also counts as corrupt", async () => {
    const root = tmpRoot();
    const msgs: string[] = [];
    const build = async (d: string) => {
      fs.writeFileSync(path.join(d, "bin"), "y".repeat(100));
      return 1;
    };
    const a = await cached("k", "c", build, { root, log: (m) => msgs.push(m) });
    fs.writeFileSync(path.join(a.dir, "bin"), "y".repeat(50));
    const b = await cached("k", "c", build, { root, log: (m) => msgs.push(m) });
    expect(b.hit).toBe(false);
    expect(b.rebuilt).toMatch(/bin does not match its recorded sha256/);
    expect(msgs.join("\n")).toContain(`cache entry ${path.join(root, "k", "c")} is incomplete or corrupt (bin does not match its recorded sha256 (truncated or changed)): rebuilding it`);
    fs.writeFileSync(path.join(b.dir, "stray"), "x");
    const c = await cached("k", "c", build, { root });
    expect(c.rebuilt).toMatch(/stray is not part of the sealed entry/);
    expect(fs.existsSync(path.join(c.dir, "stray"))).toBe(false);
  });

  it("three processes that need one entry at once: one builds it, the others wait and use it", async () => {
    const root = tmpRoot();
    const log = path.join(root, "builds.log");
    const script = path.join(root, "child.mts");
    fs.writeFileSync(
      script,
      `import fs from "node:fs"; import path from "node:path";
       import { cached } from ${JSON.stringify(path.join(HERE, "cache.ts"))};
       const r = await cached("sim", "shared", async (d) => {
         fs.appendFileSync(${JSON.stringify(log)}, process.pid + "\\n");
         await new Promise((res) => setTimeout(res, 1500));
         fs.writeFileSync(path.join(d, "simv"), "binary of " + process.pid);
         return { bin: "simv" };
       }, { root: ${JSON.stringify(root)}, pollMs: 50, log: (m) => console.error(m) });
       console.log(JSON.stringify({ dir: r.dir, hit: r.hit, content: fs.readFileSync(path.join(r.dir, r.value.bin), "utf8") }));`,
    );
    const runs = await Promise.all([0, 1, 2].map(() => execa("node", ["--import", "tsx", script], { all: true, reject: false })));
    for (const r of runs) expect(r.exitCode, r.all).toBe(0);
    const outs = runs.map((r) => JSON.parse(r.stdout.trim().split("\n").pop()!));
    expect(new Set(outs.map((o) => o.content)).size).toBe(1);
    expect(outs.filter((o) => !o.hit)).toHaveLength(1);
    expect(fs.readFileSync(log, "utf8").trim().split("\n")).toHaveLength(1);
    expect(runs.map((r) => r.stderr).join("\n")).toMatch(new RegExp(`waiting for st3d process \\d+, which is building ${path.join(root, "sim", "shared")}`));
    expect(fs.readdirSync(path.join(root, "sim")).sort()).toEqual(["shared"]);
  });

  it("a lock left by a dead process is taken over; temporaries of dead processes are swept", async () => {
    const root = tmpRoot();
    const pid = await deadPid();
    const host = (await import("node:os")).hostname().replace(/[^A-Za-z0-9.]/g, "_").slice(0, 40);
    fs.mkdirSync(path.join(root, "k"), { recursive: true });
    fs.writeFileSync(path.join(root, "k", ".lock-e"), JSON.stringify({ host, pid, started: 1 }));
    const leftover = path.join(root, "k", `.tmp-e-${host}-${pid}-0123abcd`);
    fs.mkdirSync(leftover);
    fs.writeFileSync(path.join(leftover, "half"), "x");
    const t0 = Date.now();
    const r = cachedSync("k", "e", (d) => (fs.writeFileSync(path.join(d, "f"), "ok"), 7), { root });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.value).toBe(7);
    expect(fs.existsSync(leftover)).toBe(false);
    expect(fs.readdirSync(path.join(root, "k"))).toEqual(["e"]);
  });

  it("usage and clean", async () => {
    const root = tmpRoot();
    cachedSync("a", "x", (d) => (fs.writeFileSync(path.join(d, "f"), "1234"), 0), { root });
    expect(cacheUsage(root)).toEqual([{ kind: "a", entries: 1, bytes: expect.any(Number) }]);
    expect(cacheClean(undefined, root)).toEqual([path.join(root, "a")]);
    expect(cacheUsage(root)).toEqual([]);
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
