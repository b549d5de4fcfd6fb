/**
 * Output folders (generator/output.ts): written atomically (a temporary sibling, then one
 * rename; a failure at any point leaves the previous folder byte for byte and no temporary),
 * never outside the chosen folder (path traversal refused), never over files st3d did not
 * generate (manifest with hashes; force overrides, but never the current folder, its parents,
 * the home folder or /).  Plus `writeAtomically` of `st3d run`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { foreignFiles, MANIFEST, OutputError, sha256, writeOutputDir } from "../generator/output.ts";
import { RunError, writeAtomically } from "../generator/run/run.ts";
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

describe("writeOutputDir never overwrites files st3d did not generate (unless forced)", () => {
  const refuses = (dir: string, what: RegExp) => {
    const before = snapshot(dir);
    expect(() => writeOutputDir(dir, gen(4, "new"), meta)).toThrow(OutputError);
    expect(() => writeOutputDir(dir, gen(4, "new"), meta)).toThrow(what);
    expect(snapshot(dir)).toEqual(before);
  };

  it("a foreign file, an edited file, an extra empty folder, a symlink, a broken manifest", () => {
    const mk = () => {
      const dir = path.join(tmp(), "out");
      writeOutputDir(dir, gen(4, "old"), meta);
      return dir;
    };
    let dir = mk();
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    refuses(dir, /refusing to overwrite .*notes\.txt.*--force/);

    dir = mk();
    fs.appendFileSync(path.join(dir, "f1.v"), "// hand edit\n");
    refuses(dir, /f1\.v/);

    dir = mk();
    fs.mkdirSync(path.join(dir, "my_empty_dir"));
    refuses(dir, /my_empty_dir/);

    dir = mk();
    fs.symlinkSync("/etc", path.join(dir, "link"));
    refuses(dir, /link/);

    dir = mk();
    fs.writeFileSync(path.join(dir, MANIFEST), "{ not json");
    refuses(dir, new RegExp(MANIFEST));

    dir = mk();
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify({ files: "nope" }));
    refuses(dir, new RegExp(MANIFEST));

    dir = mk();
    fs.rmSync(path.join(dir, MANIFEST));
    refuses(dir, /f1\.v/);
  });

  it("a folder never written by st3d, or a plain file in the way", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "thesis.tex"), "precious");
    refuses(dir, /thesis\.tex/);
    const file = path.join(tmp(), "out");
    fs.writeFileSync(file, "precious");
    expect(() => writeOutputDir(file, gen(2), meta)).toThrow(/refusing to overwrite/);
    expect(fs.readFileSync(file, "utf8")).toBe("precious");
  });

  it("an empty folder is fine; force replaces foreign content", () => {
    const dir = tmp();
    writeOutputDir(dir, gen(3), meta);
    fs.writeFileSync(path.join(dir, "notes.txt"), "mine");
    writeOutputDir(dir, gen(3, "forced"), meta, { force: true });
    expect(fs.existsSync(path.join(dir, "notes.txt"))).toBe(false);
    expect(foreignFiles(dir)).toEqual([]);
  });

  it("never replaces the current folder, a parent of it, the home folder or /, even with force", () => {
    for (const d of [process.cwd(), ".", "..", path.dirname(process.cwd()), os.homedir(), "/"])
      expect(() => writeOutputDir(d, gen(1), meta, { force: true }), d).toThrow(/refusing to write into/);
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

describe("writeAtomically (st3d run results)", () => {
  const files = (tag: string) => [
    { name: "output.npy", data: `npy ${tag}` },
    { name: "run.json", data: `json ${tag}` },
  ];
  it("writes both files and replaces older ones; other files in the folder are kept", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, "mine.txt"), "mine");
    writeAtomically(dir, files("1"));
    writeAtomically(dir, files("2"));
    expect(snapshot(dir)).toEqual({ "mine.txt": "mine", "output.npy": "npy 2", "run.json": "json 2" });
  });
  it("a failure while writing or renaming leaves the previous results and no temporary", () => {
    const dir = tmp();
    writeAtomically(dir, files("old"));
    const before = snapshot(dir);
    for (const [fn, at] of [
      ["writeFileSync", 1],
      ["writeFileSync", 2],
      ["renameSync", 1],
      ["renameSync", 3],
      ["renameSync", 4],
    ] as const) {
      const real = fs[fn] as (...a: unknown[]) => unknown;
      let n = 0;
      vi.spyOn(fs, fn).mockImplementation(((...args: unknown[]) => {
        if (++n === at) throw new Error(`EIO in ${fn} #${at}`);
        return real(...args);
      }) as never);
      expect(() => writeAtomically(dir, files("new"))).toThrow(RunError);
      vi.restoreAllMocks();
      expect(snapshot(dir), `${fn} #${at}`).toEqual(before);
    }
  });
});
