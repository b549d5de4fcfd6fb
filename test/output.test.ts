/**
 * Output folders (generator/output.ts): written atomically (a temporary sibling, then one
 * rename; a failure at any point leaves the previous folder byte for byte and no temporary),
 * never outside the chosen folder (path traversal refused), never over files st3d did not
 * write (manifest with hashes; force only replaces st3d's own edited files), never the current
 * folder, home, /, the installation, a git repository or a parent of those.  The same rule
 * through `st3d generate`, `st3d run` and `st3d random-model`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { foreignFiles, INSTALL_ROOT, MANIFEST, OutputError, sha256, writeOutputDir } from "../generator/output.ts";
import type { GeneratedFile } from "../generator/core/files.ts";

const ST3D = path.resolve("bin/st3d.js");
const meta = { generator: "st3d test", design: "t", configHash: "0", tops: ["t_top"] };
const made: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "st3d-out-"));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});
const gen = (n: number, salt = ""): GeneratedFile[] =>
  Array.from({ length: n }, (_, i) => ({ path: i % 3 === 0 ? `sub/dir/f${i}.v` : `f${i}.v`, kind: "rtl" as const, content: `module f${i}; // ${salt}\nendmodule\n` }));

/** Every file (and empty folder) under dir with its content: a byte-for-byte snapshot. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(dir)) return out;
  const walk = (rel: string) => {
    const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    if (rel && entries.length === 0) out[rel + "/"] = "(empty dir)";
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out[r] = e.isSymbolicLink() ? `-> ${fs.readlinkSync(path.join(dir, r))}` : fs.readFileSync(path.join(dir, r), "latin1");
    }
  };
  walk("");
  return out;
}
const siblings = (dir: string) => fs.readdirSync(path.dirname(dir)).sort();
function catchErr(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an exception");
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("writeOutputDir: the folder and its manifest", () => {
  it("writes every file and a manifest with their sha256; regenerating replaces the whole folder", () => {
    const dir = path.join(tmp(), "out");
    writeOutputDir(dir, gen(7, "a"), meta);
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8"));
    expect(m.files.map((f: { path: string }) => f.path).sort()).toEqual(gen(7).map((f) => f.path).sort());
    for (const f of m.files) expect(sha256(fs.readFileSync(path.join(dir, f.path)))).toBe(f.sha256);
    expect(m.tops).toEqual(["t_top"]);
    // a smaller regeneration: files it no longer makes disappear (no stale RTL left behind)
    writeOutputDir(dir, gen(3, "b"), meta);
    expect(Object.keys(snapshot(dir)).sort()).toEqual([MANIFEST, ...gen(3).map((f) => f.path)].sort());
    expect(fs.readFileSync(path.join(dir, "f1.v"), "utf8")).toContain("// b");
    expect(siblings(dir)).toEqual(["out"]);
  });
});

describe("writeOutputDir is atomic", () => {
  it("a failure in the middle of writing leaves the previous folder intact and no temporary", () => {
    const dir = path.join(tmp(), "out");
    writeOutputDir(dir, gen(9, "old"), meta);
    const before = snapshot(dir);
    for (const failAt of [1, 4, 9, 10]) {
      // writes: 9 files, then the manifest (call 10)
      let n = 0;
      const real = fs.writeFileSync;
      const spy = vi.spyOn(fs, "writeFileSync").mockImplementation((...args: Parameters<typeof fs.writeFileSync>) => {
        // while the new folder is being written, the target is untouched at every step
        expect(snapshot(dir)).toEqual(before);
        if (++n === failAt) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
        return real(...args);
      });
      const err = catchErr(() => writeOutputDir(dir, gen(9, "new"), meta));
      spy.mockRestore();
      expect(err).toBeInstanceOf(OutputError);
      expect(err.message).toMatch(/could not write .*ENOSPC.*nothing was changed/);
      expect(snapshot(dir), `fail at write ${failAt}`).toEqual(before);
      expect(siblings(dir), `fail at write ${failAt}`).toEqual(["out"]);
    }
  });

  it("a failure of the final rename puts the previous folder back", () => {
    const dir = path.join(tmp(), "out");
    writeOutputDir(dir, gen(5, "old"), meta);
    const before = snapshot(dir);
    const real = fs.renameSync;
    let n = 0;
    vi.spyOn(fs, "renameSync").mockImplementation((a, b) => {
      // call 1 moves the old folder aside, call 2 moves the new one into place: fail that one
      if (++n === 2) throw Object.assign(new Error("EIO: i/o error, rename"), { code: "EIO" });
      return real(a, b);
    });
    expect(() => writeOutputDir(dir, gen(5, "new"), meta)).toThrow(/could not write .*EIO/);
    vi.restoreAllMocks();
    expect(snapshot(dir)).toEqual(before);
    expect(siblings(dir)).toEqual(["out"]);
  });

  it("a failure writing a new folder leaves nothing at all", () => {
    const root = tmp();
    const dir = path.join(root, "fresh");
    const real = fs.writeFileSync;
    let n = 0;
    vi.spyOn(fs, "writeFileSync").mockImplementation((...args: Parameters<typeof fs.writeFileSync>) => {
      if (++n === 3) throw new Error("EACCES: permission denied");
      return real(...args);
    });
    expect(() => writeOutputDir(dir, gen(6), meta)).toThrow(OutputError);
    vi.restoreAllMocks();
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it("a folder that cannot be created is a clear OutputError, not a crash", () => {
    const root = tmp();
    fs.writeFileSync(path.join(root, "afile"), "x");
    expect(() => writeOutputDir(path.join(root, "afile", "out"), gen(2), meta)).toThrow(/could not write .*afile/);
    expect(fs.readFileSync(path.join(root, "afile"), "utf8")).toBe("x");
  });
});

describe("writeOutputDir never writes outside the chosen folder", () => {
  const bad = [
    "../escape.v",
    "../../etc/passwd",
    "a/../../escape.v",
    "sub/../../escape.v",
    "..",
    ".",
    "",
    "/etc/passwd",
    "/tmp/escape.v",
    "a\\..\\..\\escape.v",
    "..\\escape.v",
    "C:\\escape.v",
    "C:/escape.v",
    "\\\\server\\share\\x.v",
    "x\0y.v",
    "dir/",
    MANIFEST,
  ];
  for (const p of bad)
    it(`refuses ${JSON.stringify(p)} and writes nothing`, () => {
      const root = tmp();
      const dir = path.join(root, "out");
      const files = [...gen(2), { path: p, kind: "rtl" as const, content: "evil" }];
      expect(() => writeOutputDir(dir, files, meta)).toThrow(OutputError);
      expect(fs.readdirSync(root)).toEqual([]);
      expect(fs.existsSync(path.join(path.dirname(root), "escape.v"))).toBe(false);
    });

  it("refuses two files with the same (normalized) path, and a path that is both a file and a folder", () => {
    const dir = path.join(tmp(), "out");
    expect(() => writeOutputDir(dir, [...gen(2), { path: "f1.v", kind: "rtl", content: "x" }], meta)).toThrow(/two generated files/);
    expect(() => writeOutputDir(dir, [{ path: "a/b.v", kind: "rtl", content: "" }, { path: "a/./b.v", kind: "rtl", content: "" }], meta)).toThrow(/two generated files/);
    expect(() => writeOutputDir(dir, [{ path: "a", kind: "rtl", content: "" }, { path: "a/b.v", kind: "rtl", content: "" }], meta)).toThrow(/both as a file and as a folder/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe("writeOutputDir never overwrites files st3d did not write", () => {
  const refuses = (dir: string, what: RegExp, force = false) => {
    const before = snapshot(dir);
    const err = catchErr(() => writeOutputDir(dir, gen(4, "new"), meta, { force }));
    expect(err).toBeInstanceOf(OutputError);
    expect(err.message).toMatch(what);
    expect(snapshot(dir)).toEqual(before);
    expect(siblings(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  };
  const mk = () => {
    const dir = path.join(tmp(), "out");
    writeOutputDir(dir, gen(4, "old"), meta);
    return dir;
  };

  it("a foreign file, an extra empty folder, a symlink, a broken manifest: refused with and without force", () => {
    for (const force of [false, true]) {
      let dir = mk();
      fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
      refuses(dir, /refusing to write into .*out: it holds files st3d did not write \(notes\.txt\).*--force never deletes them/, force);

      dir = mk();
      fs.mkdirSync(path.join(dir, "my_empty_dir"));
      refuses(dir, /my_empty_dir/, force);

      dir = mk();
      fs.symlinkSync("/etc", path.join(dir, "link"));
      refuses(dir, /link/, force);

      dir = mk();
      fs.writeFileSync(path.join(dir, MANIFEST), "{ not json");
      refuses(dir, new RegExp(`its ${MANIFEST} is not a readable st3d manifest`), force);

      dir = mk();
      fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify({ files: "nope" }));
      refuses(dir, new RegExp(MANIFEST), force);

      dir = mk();
      fs.rmSync(path.join(dir, MANIFEST));
      refuses(dir, /f1\.v/, force);
    }
  });

  it("a file of st3d edited by hand: refused, and replaced with force (st3d's own file)", () => {
    const dir = mk();
    fs.appendFileSync(path.join(dir, "f1.v"), "// hand edit\n");
    refuses(dir, /refusing to overwrite .*edited since \(f1\.v\).*--force/);
    writeOutputDir(dir, gen(4, "forced"), meta, { force: true });
    expect(foreignFiles(dir)).toEqual([]);
    expect(fs.readFileSync(path.join(dir, "f1.v"), "utf8")).toContain("forced");
  });

  it("an emptied subfolder of st3d's own output is st3d's, not foreign", () => {
    const dir = mk();
    for (const f of fs.readdirSync(path.join(dir, "sub", "dir"))) fs.rmSync(path.join(dir, "sub", "dir", f));
    writeOutputDir(dir, [{ path: "top.v", kind: "rtl", content: "module top; endmodule\n" }], meta);
    expect(fs.existsSync(path.join(dir, "sub"))).toBe(false);
  });

  it("a folder never written by st3d, or a plain file in the way", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "thesis.tex"), "precious");
    refuses(dir, /thesis\.tex/);
    refuses(dir, /thesis\.tex/, true);
    const file = path.join(tmp(), "out");
    fs.writeFileSync(file, "precious");
    for (const force of [false, true]) expect(() => writeOutputDir(file, gen(2), meta, { force })).toThrow(/refusing to write into .*out: it is a file, not a folder/);
    expect(fs.readFileSync(file, "utf8")).toBe("precious");
  });

  it("an empty folder is fine; a new one follows the umask (not 0700)", () => {
    const dir = tmp();
    writeOutputDir(dir, gen(3), meta);
    expect(foreignFiles(dir)).toEqual([]);
    const old = process.umask(0o022);
    try {
      const d2 = path.join(tmp(), "fresh");
      writeOutputDir(d2, gen(3), meta);
      expect(fs.statSync(d2).mode & 0o777).toBe(0o755);
      expect(fs.statSync(path.join(d2, "f1.v")).mode & 0o777).toBe(0o644);
      expect(fs.statSync(path.join(d2, "sub")).mode & 0o777).toBe(0o755);
      process.umask(0o002);
      writeOutputDir(d2, [...gen(3), { path: "run.sh", kind: "debug", content: "#!/bin/sh\n", executable: true }], meta);
      expect(fs.statSync(d2).mode & 0o777).toBe(0o775);
      expect(fs.statSync(path.join(d2, "f1.v")).mode & 0o777).toBe(0o664);
      expect(fs.statSync(path.join(d2, "run.sh")).mode & 0o777).toBe(0o775);
    } finally {
      process.umask(old);
    }
  });

  it("never the current folder, a parent of it, home, a parent of home, /, the installation, a git repository — even with force", () => {
    for (const d of [process.cwd(), ".", "..", path.dirname(process.cwd()), os.homedir(), path.dirname(os.homedir()), "/", INSTALL_ROOT, path.dirname(INSTALL_ROOT)])
      expect(() => writeOutputDir(d, gen(1), meta, { force: true }), d).toThrow(/refusing to write into .*: it (is|contains) (the|a)/);
    const repo = tmp();
    fs.mkdirSync(path.join(repo, ".git"));
    fs.writeFileSync(path.join(repo, ".git", "HEAD"), "ref: refs/heads/main\n");
    expect(() => writeOutputDir(repo, gen(1), meta, { force: true })).toThrow(/it is a git repository/);
    expect(fs.readFileSync(path.join(repo, ".git", "HEAD"), "utf8")).toContain("main");
  });
});

describe("writeOutputDir: a folder that cannot be moved aside", () => {
  it("a failing rename of the previous folder says nothing was changed (no false '.old')", () => {
    const dir = path.join(tmp(), "out");
    writeOutputDir(dir, gen(3, "old"), meta);
    const before = snapshot(dir);
    const real = fs.renameSync;
    let n = 0;
    vi.spyOn(fs, "renameSync").mockImplementation((a, b) => {
      if (++n === 1) throw Object.assign(new Error("EPERM: operation not permitted, rename"), { code: "EPERM" });
      return real(a, b);
    });
    const err = catchErr(() => writeOutputDir(dir, gen(3, "new"), meta));
    vi.restoreAllMocks();
    expect(err.message).toMatch(/could not write .*EPERM.*nothing was changed/);
    expect(err.message).not.toMatch(/\.old/);
    expect(snapshot(dir)).toEqual(before);
    expect(siblings(dir)).toEqual(["out"]);
  });
});

describe("st3d generate (command line)", () => {
  it("--force over the current folder is refused and leaves it alone", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "keep.txt"), "keep");
    const r = await execa("node", [ST3D, "generate", "tiny", "-o", ".", "--force"], { cwd: dir, reject: false, all: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/refusing to write into \. ?: it is the current folder/);
    expect(r.all).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(fs.readdirSync(dir)).toEqual(["keep.txt"]);
  });
  /** every file under dir (not following symlinks, skipping node_modules) with its sha256 */
  const hashes = (dir: string): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.name === "node_modules" || r === "build") continue;
        if (e.isDirectory()) walk(r);
        else out[r] = e.isFile() ? sha256(fs.readFileSync(path.join(dir, r))) : "(other)";
      }
    };
    walk("");
    return out;
  };
  const refusedIntact = async (target: string, args: string[], cwd: string, why: RegExp) => {
    const before = hashes(target);
    expect(Object.keys(before).length).toBeGreaterThan(0);
    const r = await execa("node", [ST3D, ...args], { cwd, reject: false, all: true });
    expect(r.exitCode, r.all).not.toBe(0);
    expect(r.all).toMatch(why);
    expect(r.all).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(hashes(target)).toEqual(before);
    expect(fs.readdirSync(path.dirname(path.resolve(target))).filter((f) => f.includes(".tmp-"))).toEqual([]);
  };
  it("--force onto a folder with a foreign file is refused, every file intact", async () => {
    const dir = tmp();
    expect((await execa("node", [ST3D, "generate", "tiny", "-o", dir])).exitCode).toBe(0);
    fs.writeFileSync(path.join(dir, "my-notes.txt"), "mine");
    await refusedIntact(dir, ["generate", "tiny", "-o", dir, "--force"], tmp(), new RegExp(`refusing to write into ${dir}: it holds files st3d did not write \\(my-notes\\.txt\\)`));
  });
  it("--force onto a git repository is refused, every file intact", async () => {
    const repo = tmp();
    fs.writeFileSync(path.join(repo, "paper.tex"), "draft");
    await execa("git", ["init", "-q", repo]);
    await refusedIntact(repo, ["generate", "tiny", "-o", repo, "--force"], tmp(), new RegExp(`refusing to write into ${repo}: it is a git repository`));
    // also once it holds st3d's own output only (a repository of generated RTL)
    const own = path.join(tmp(), "rtl");
    expect((await execa("node", [ST3D, "generate", "tiny", "-o", own])).exitCode).toBe(0);
    await execa("git", ["init", "-q", own]);
    await refusedIntact(own, ["generate", "tiny", "-o", own, "--force"], tmp(), /it is a git repository/);
  });
  it("--force onto the st3d installation (from another folder) is refused, every file intact", async () => {
    await refusedIntact(INSTALL_ROOT, ["generate", "tiny", "-o", INSTALL_ROOT, "--force"], tmp(), new RegExp(`refusing to write into ${INSTALL_ROOT}: it is the st3d installation`));
    // run from "/": a temporary working folder may itself lie in the installation's parent (a checkout in /tmp),
    // and then "it contains the current folder" is the reason given first
    const parent = path.dirname(INSTALL_ROOT);
    const why = parent === path.parse(parent).root ? /it is the filesystem root/ : /it contains the st3d installation/;
    await refusedIntact(INSTALL_ROOT, ["random-model", "tiny", "-o", parent], "/", why);
  });
  it("run -o / is refused before anything runs", async () => {
    const m = path.join(tmp(), "m");
    expect((await execa("node", [ST3D, "random-model", "tiny", "-o", m])).exitCode).toBe(0);
    for (const extra of [["--golden"], ["--sim", "icarus"]]) {
      const r = await execa("node", [ST3D, "run", "-c", "tiny", "-w", `${m}/weights`, "-i", `${m}/input.npy`, "-o", "/", ...extra], { cwd: tmp(), reject: false, all: true });
      expect(r.exitCode, r.all).not.toBe(0);
      expect(r.all).toMatch(/refusing to write into \/: it is the filesystem root/);
      expect(fs.existsSync("/output.npy")).toBe(false);
      expect(fs.existsSync("/run.json")).toBe(false);
    }
  });
  it("an output path below a file is a one-line error", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "f"), "x");
    const r = await execa("node", [ST3D, "generate", "tiny", "-o", path.join(dir, "f", "out")], { reject: false, all: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/^st3d: could not write .*f\/out/m);
    expect(r.all).not.toMatch(/internal error/);
  });
});

describe("st3d lint / synth on a damaged folder", () => {
  it("a corrupt manifest is a one-line error, not a crash", async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, MANIFEST), "{ broken");
    const r = await execa("node", [ST3D, "lint", dir], { reject: false, all: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.all?.trim()).toMatch(/^st3d: .*st3d-manifest\.json is not a readable st3d manifest/);
    expect(r.all).not.toMatch(/internal error/);
  });
});

describe("Ctrl-C", () => {
  it("SIGINT while a stage is open removes the temporary and leaves the previous folder", async () => {
    const dir = path.join(tmp(), "out");
    writeOutputDir(dir, gen(2, "old"), meta);
    const before = snapshot(dir);
    const script = path.join(tmp(), "stage.mts");
    fs.writeFileSync(
      script,
      `import { beginOutputDir } from ${JSON.stringify(path.resolve("generator/output.ts"))};
       const s = beginOutputDir(${JSON.stringify(dir)}, { generator: "t", design: "t", configHash: "0" });
       s.write({ path: "half.v", kind: "rtl", content: "x" });
       console.log("staged"); setInterval(() => {}, 1000);`,
    );
    const p = execa("node", ["--import", "tsx", script], { reject: false, all: true });
    await new Promise<void>((res) => p.stdout?.on("data", (d) => String(d).includes("staged") && res()));
    expect(siblings(dir).some((f) => f.includes(".tmp-"))).toBe(true);
    p.kill("SIGINT");
    const r = await p;
    expect(r.signal).toBe("SIGINT");
    expect(siblings(dir)).toEqual(["out"]);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("st3d run and random-model follow the same rule", () => {
  it("results go into a new folder, replace st3d's own earlier results, never a folder with other files", async () => {
    const base = tmp();
    const m = path.join(base, "m");
    expect((await execa("node", [ST3D, "random-model", "tiny", "-o", m])).exitCode).toBe(0);
    const run = (out: string, ...extra: string[]) => execa("node", [ST3D, "run", "-c", "tiny", "-w", `${m}/weights`, "-i", `${m}/input.npy`, "-o", out, "--golden", ...extra], { reject: false, all: true });
    const out = path.join(base, "res");
    expect((await run(out)).exitCode).toBe(0);
    expect(foreignFiles(out)).toEqual([]);
    expect(fs.readdirSync(out).sort()).toEqual([MANIFEST, "output.npy", "run.json"].sort());
    const again = await run(out);
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).toMatch(new RegExp(`results in ${out}: output.npy, run.json`));
    fs.writeFileSync(path.join(out, "notes.txt"), "mine");
    const before = snapshot(out);
    const r = await run(out);
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toMatch(/refusing to write into .*res: it holds files st3d did not write \(notes\.txt\)/);
    expect(snapshot(out)).toEqual(before);
  });
  it("random-model -o <a file> is a clear error; into a folder of a bigger config it leaves no stale tensor", async () => {
    const base = tmp();
    const file = path.join(base, "afile");
    fs.writeFileSync(file, "x");
    const r = await execa("node", [ST3D, "random-model", "tiny", "-o", file], { reject: false, all: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.all?.trim()).toMatch(new RegExp(`^st3d: refusing to write into ${file}: it is a file, not a folder`));
    expect(fs.readFileSync(file, "utf8")).toBe("x");
    const dir = path.join(base, "m");
    const big = path.join(base, "big.yaml");
    fs.writeFileSync(big, "name: big\nmodel: { timesteps: 2, tokens: 4, dim: 8, heads: 2, blocks: 3, experts: 4, topK: 2, expertHidden: 8 }\n");
    expect((await execa("node", [ST3D, "random-model", big, "-o", dir])).exitCode).toBe(0);
    expect(fs.existsSync(path.join(dir, "weights", "blocks.2.q.weight.npy"))).toBe(true);
    const small = await execa("node", [ST3D, "random-model", "tiny", "-o", dir], { reject: false, all: true });
    expect(small.exitCode, small.all).toBe(0);
    expect(fs.existsSync(path.join(dir, "weights", "blocks.2.q.weight.npy"))).toBe(false);
    const g = await execa("node", [ST3D, "run", "-c", "tiny", "-w", `${dir}/weights`, "-i", `${dir}/input.npy`, "-o", path.join(base, "o"), "--golden"], { reject: false, all: true });
    expect(g.exitCode, g.all).toBe(0);
  });
  it("seeds are validated, never wrapped at 2^32", async () => {
    const base = tmp();
    for (const bad of ["4294967296", "-1", "1.5", "1e3", "abc", ""]) {
      const r = await execa("node", [ST3D, "random-model", "tiny", "-o", path.join(base, "x"), "--seed", bad], { reject: false, all: true });
      expect(r.exitCode, bad).not.toBe(0);
      expect(r.all, bad).toMatch(/--seed must be an integer from 0 to 4294967295/);
    }
    expect(fs.existsSync(path.join(base, "x"))).toBe(false);
    const a = path.join(base, "a");
    expect((await execa("node", [ST3D, "random-model", "tiny", "-o", a, "--seed", "4294967295"])).exitCode).toBe(0);
  });
});
