/**
 * Malformed inputs to `st3d run`, through the command line (`--golden`, so each case takes a
 * second; one case in RTL mode): every problem gives exactly one line on stderr, starting with
 * "st3d: ", naming the tensor and the file, the exit code is non-zero, and nothing is written —
 * no output.npy / run.json in a new output folder, and an existing output folder keeps its files
 * byte for byte.  Plus a byte-level fuzz of the .npy reader (only NpyError, never a crash).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../generator/config/load.ts";
import { resolve } from "../generator/config/resolve.ts";
import { randomModel, TensorError, loadTensorFile, writeInput, writeModelDir } from "../generator/model/tensors.ts";
import { NpyError, parseNpy, serializeNpy, writeNpy, type NpyWriteDtype } from "../generator/util/npy.ts";

const ST3D = path.resolve("bin/st3d.js");
const r = resolve(loadConfig("tiny"));
const { T, N, D } = r;
const made: string[] = [];
const tmp = (p = "m") => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `st3d-malformed-${p}-`));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

let good: string; // folder with weights/ and input.npy of a valid model
let prev: string; // an output folder holding the results of a good earlier run
let prevSnapshot: Record<string, string>;

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort()) out[f] = fs.readFileSync(path.join(dir, f), "latin1");
  return out;
}

/** A copy of the good model folder, changed by `mutate(dir)`. */
function variant(mutate: (dir: string) => void): string {
  const dir = tmp("v");
  fs.cpSync(good, dir, { recursive: true });
  mutate(dir);
  return dir;
}

/** Raw .npy bytes with an arbitrary descr (numpy would write these for float32 / bool arrays). */
function rawNpy(descr: string, shape: number[], bytesPerValue: number, fill: (buf: Buffer, i: number) => void): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + " ".repeat(total - 10 - header.length - 1) + "\n";
  const out = Buffer.alloc(total + count * bytesPerValue);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out, 0);
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, "latin1");
  for (let i = 0; i < count; i++) fill(out.subarray(total + i * bytesPerValue, total + (i + 1) * bytesPerValue), i);
  return out;
}

interface Outcome {
  code: number;
  stderr: string;
  stdout: string;
}

async function run(args: { weights?: string; input?: string; config?: string; out?: string; rtl?: boolean; work?: string }): Promise<Outcome> {
  const argv = ["run", "-c", args.config ?? "tiny", "-w", args.weights ?? path.join(good, "weights"), "-i", args.input ?? path.join(good, "input.npy"), "-o", args.out ?? path.join(tmp("o"), "out")];
  if (args.rtl) argv.push("--sim", "verilator");
  else argv.push("--golden");
  const res = await execa("node", [ST3D, ...argv], { reject: false, env: { ST3D_CACHE: args.work ?? path.join(tmp("w"), "cache") } });
  return { code: res.exitCode ?? -1, stderr: res.stderr, stdout: res.stdout };
}

/** The contract for every malformed case. */
async function expectRefused(args: Parameters<typeof run>[0], ...mustMention: (string | RegExp)[]): Promise<string> {
  const fresh = path.join(tmp("o"), "out");
  // once into a new folder, once over the folder of a good earlier run
  const [a, b] = await Promise.all([run({ ...args, out: fresh }), run({ ...args, out: prev })]);
  for (const res of [a, b]) {
    expect(res.code, res.stderr).not.toBe(0);
    const lines = res.stderr.trim().split("\n");
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^st3d: /);
    expect(lines[0]).not.toMatch(/internal error|\bat .*\.ts:\d+|TypeError|RangeError/);
    for (const m of mustMention) expect(lines[0]).toMatch(typeof m === "string" ? new RegExp(m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")) : m);
    expect(res.stdout).toBe("");
  }
  expect(fs.existsSync(fresh), "no output folder for a refused run").toBe(false);
  expect(snapshot(prev), "the earlier results are untouched").toEqual(prevSnapshot);
  return a.stderr.trim();
}

beforeAll(async () => {
  good = tmp("good");
  const { model, input } = randomModel(r, 7, 0.25);
  writeModelDir(r, model, path.join(good, "weights"));
  writeInput(r, input, path.join(good, "input.npy"));
  prev = path.join(tmp("prev"), "results");
  const ok = await run({ out: prev });
  expect(ok.code, ok.stderr).toBe(0);
  fs.writeFileSync(path.join(prev, "notes.txt"), "my notes");
  prevSnapshot = snapshot(prev);
  expect(Object.keys(prevSnapshot)).toEqual(["notes.txt", "output.npy", "run.json", "st3d-manifest.json"]);
});

const W = (dir: string, name: string) => path.join(dir, "weights", `${name}.npy`);

describe("st3d run refuses malformed tensors with one clear line and writes nothing", () => {
  it("a truncated weight file (data cut, and header cut)", async () => {
    const v1 = variant((d) => {
      const b = fs.readFileSync(W(d, "blocks.0.q.weight"));
      fs.writeFileSync(W(d, "blocks.0.q.weight"), b.subarray(0, b.length - 7));
    });
    const v2 = variant((d) => fs.writeFileSync(W(d, "blocks.1.experts.2.fc2.bias"), fs.readFileSync(W(d, "blocks.1.experts.2.fc2.bias")).subarray(0, 9)));
    await Promise.all([
      expectRefused({ weights: path.join(v1, "weights") }, "blocks.0.q.weight", W(v1, "blocks.0.q.weight"), /truncated/),
      expectRefused({ weights: path.join(v2, "weights") }, "blocks.1.experts.2.fc2.bias", W(v2, "blocks.1.experts.2.fc2.bias"), /truncated/),
    ]);
  });

  it("a truncated input file, and an empty one", async () => {
    const v = variant((d) => {
      const b = fs.readFileSync(path.join(d, "input.npy"));
      fs.writeFileSync(path.join(d, "input.npy"), b.subarray(0, 70));
      fs.writeFileSync(path.join(d, "empty.npy"), "");
    });
    await Promise.all([
      expectRefused({ input: path.join(v, "input.npy") }, /^st3d: input: /, path.join(v, "input.npy"), /truncated/),
      expectRefused({ input: path.join(v, "empty.npy") }, /^st3d: input: /, path.join(v, "empty.npy"), /truncated/),
    ]);
  });

  it("float32 weights and input, bool weights", async () => {
    const f32 = (shape: number[]) => rawNpy("<f4", shape, 4, (b, i) => b.writeFloatLE(i % 3));
    const v = variant((d) => {
      fs.writeFileSync(W(d, "blocks.0.k.weight"), f32([D, D]));
      fs.writeFileSync(path.join(d, "input_f32.npy"), f32([T, N, D]));
    });
    const vb = variant((d) => fs.writeFileSync(W(d, "blocks.1.o.weight"), rawNpy("|b1", [D, D], 1, (b, i) => (b[0] = i & 1))));
    await Promise.all([
      expectRefused({ weights: path.join(v, "weights") }, "blocks.0.k.weight", W(v, "blocks.0.k.weight"), /floating-point|<f4/),
      expectRefused({ input: path.join(v, "input_f32.npy") }, /^st3d: input: /, path.join(v, "input_f32.npy"), /floating-point/),
      expectRefused({ weights: path.join(vb, "weights") }, "blocks.1.o.weight", W(vb, "blocks.1.o.weight"), /\|b1.*not an integer dtype/),
    ]);
  });

  it("a missing tensor, an unexpected one, a missing or non-folder weights path", async () => {
    const v = variant((d) => fs.rmSync(W(d, "blocks.1.router.bias")));
    const u = variant((d) => fs.copyFileSync(W(d, "blocks.0.q.weight"), W(d, "blocks.2.q.weight")));
    await Promise.all([
      expectRefused({ weights: path.join(v, "weights") }, "blocks.1.router.bias", W(v, "blocks.1.router.bias"), /missing file/),
      expectRefused({ weights: path.join(u, "weights") }, "blocks.2.q.weight", W(u, "blocks.2.q.weight"), /unexpected tensor/),
      expectRefused({ weights: path.join(u, "nope") }, path.join(u, "nope"), /weights folder does not exist/),
      expectRefused(
        { weights: path.join(variant((d) => ["blocks.0.q.bias", "blocks.1.experts.3.fc1.weight", "blocks.1.router.weight"].forEach((t) => fs.rmSync(W(d, t)))), "weights") },
        /3 of 52 tensors missing in .*weights: blocks\.0\.q\.bias\.npy \[8\], blocks\.1\.router\.weight\.npy \[4,8\], blocks\.1\.experts\.3\.fc1\.weight\.npy \[8,8\]/,
      ),
      expectRefused(
        { weights: path.join(variant((d) => ["blocks.2.q.weight", "blocks.0.experts.4.fc1.bias"].forEach((t) => fs.copyFileSync(W(d, "blocks.0.q.bias"), W(d, t)))), "weights") },
        /2 unexpected tensors in .*: blocks\.0\.experts\.4\.fc1\.bias, blocks\.2\.q\.weight — the config has blocks=2, experts=4/,
      ),
      expectRefused({ weights: path.join(u, "input.npy") }, path.join(u, "input.npy"), /not a directory/),
    ]);
  });

  it("wrong shapes: a weight, the input (wrong size and wrong rank)", async () => {
    const v = variant((d) => {
      writeNpy(W(d, "blocks.0.experts.1.fc1.weight"), [r.F, D + 1], new Array(r.F * (D + 1)).fill(0), "|i1");
      writeNpy(path.join(d, "in_d.npy"), [T, N, D + 1], new Array(T * N * (D + 1)).fill(0), "<i2");
      writeNpy(path.join(d, "in_rank.npy"), [N, D], new Array(N * D).fill(0), "<i2");
    });
    await Promise.all([
      expectRefused({ weights: path.join(v, "weights") }, "blocks.0.experts.1.fc1.weight", /shape \[8,9\], expected \[8,8\]/),
      expectRefused({ input: path.join(v, "in_d.npy") }, /^st3d: input: shape \[2,4,9\], expected \[2,4,8\]/, path.join(v, "in_d.npy")),
      expectRefused({ input: path.join(v, "in_rank.npy") }, /^st3d: input: shape \[4,8\], expected \[2,4,8\]/),
    ]);
  });

  it("values out of range: a weight over weightBits, a bias over biasBits, U0 over residBits", async () => {
    const lim = (b: number) => 2 ** (b - 1);
    const v = variant((d) => {
      const wq = new Array(D * D).fill(1);
      wq[D + 2] = -lim(r.weightBits) - 1;
      writeNpy(W(d, "blocks.1.v.weight"), [D, D], wq, "<i2");
      const u = new Array(T * N * D).fill(0);
      u[T * N * D - 1] = lim(r.residBits);
      writeNpy(path.join(d, "u_big.npy"), [T, N, D], u, "<i4");
    });
    const vb = variant((d) => {
      const bias = new Array(r.E).fill(0);
      bias[3] = lim(r.biasBits);
      writeNpy(W(d, "blocks.0.router.bias"), [r.E], bias, "<i4");
    });
    await Promise.all([
      expectRefused({ weights: path.join(v, "weights") }, "blocks.1.v.weight", /value -129 at index \[1,2\] does not fit weightBits=8/),
      expectRefused({ weights: path.join(vb, "weights") }, "blocks.0.router.bias", W(vb, "blocks.0.router.bias"), /value 32768 at index \[3\] does not fit biasBits=16/),
      expectRefused({ input: path.join(v, "u_big.npy") }, /^st3d: input: value 32768 at index \[1,3,7\] does not fit residBits=16/, path.join(v, "u_big.npy")),
    ]);
  });

  it("an input that is not a .npy file: text, an image, a folder, a missing file", async () => {
    const d = tmp("in");
    fs.writeFileSync(path.join(d, "input.txt"), "1 2 3\n4 5 6\n");
    fs.writeFileSync(path.join(d, "input.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
    fs.mkdirSync(path.join(d, "input.npy"));
    await Promise.all([
      expectRefused({ input: path.join(d, "input.txt") }, /^st3d: input: bad magic: not a NumPy \.npy file/, path.join(d, "input.txt")),
      expectRefused({ input: path.join(d, "input.png") }, /^st3d: input: bad magic/, path.join(d, "input.png")),
      expectRefused({ input: path.join(d, "input.npy") }, /^st3d: input: /, path.join(d, "input.npy")),
      expectRefused({ input: path.join(d, "none.npy") }, /^st3d: input: missing file/, path.join(d, "none.npy")),
    ]);
  });

  it("a config file that is neither JSON nor YAML", async () => {
    const d = tmp("cfg");
    const cases: [string, string | Buffer, RegExp][] = [
      ["bad.json", "{ name: tiny, model: [", /not valid JSON/],
      ["bad.yaml", "name: x\n  model: {timesteps: 2\n\t- ]\n", /not valid YAML/],
      ["bin.cfg", Buffer.from([0x00, 0xff, 0xfe, 0x7f, 0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x3a, 0x3a]), /not a JSON or YAML text file/],
      ["latin1.yaml", Buffer.from("name: caf\xe9\n", "latin1"), /not a JSON or YAML text file/],
      ["one-problem.yaml", "model: { heads: 5 }\n", /invalid config .*one-problem\.yaml: model\.heads: heads must divide dim/],
      ["prose.txt", "This is not a config at all.\n", /top level must be a mapping/],
      ["list.yaml", "- 1\n- 2\n", /top level must be a mapping/],
    ];
    for (const [name, text] of cases) fs.writeFileSync(path.join(d, name), text);
    await Promise.all(cases.map(([name, , why]) => expectRefused({ config: path.join(d, name) }, path.join(d, name), why)));
  });

  it("an output path that is an existing file is refused before any work", async () => {
    const d = tmp("of");
    const f = path.join(d, "results");
    fs.writeFileSync(f, "precious");
    const res = await run({ out: f });
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim()).toMatch(/^st3d: refusing to write into .*results: it is a file, not a folder; /);
    expect(fs.readFileSync(f, "utf8")).toBe("precious");
  });

  it("RTL mode (no --golden): a wrong input shape is refused before building anything", async () => {
    const v = variant((d) => writeNpy(path.join(d, "in_d.npy"), [T, N + 1, D], new Array(T * (N + 1) * D).fill(0), "<i2"));
    const work = path.join(tmp("w"), "cache");
    const out = path.join(tmp("o"), "out");
    const res = await run({ input: path.join(v, "in_d.npy"), rtl: true, work, out });
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split("\n")).toHaveLength(1);
    expect(res.stderr).toMatch(/^st3d: input: shape \[2,5,8\], expected \[2,4,8\] \(file .*in_d\.npy\)$/);
    // the cache may hold st3d's own CLI bundle (bin/st3d.js): no simulator build, no template cache
    expect(fs.existsSync(path.join(work, "sim")), "no simulator build started").toBe(false);
    expect(fs.existsSync(out)).toBe(false);
    const res2 = await run({ weights: path.join(variant((d) => fs.rmSync(W(d, "blocks.0.o.bias"))), "weights"), rtl: true, work, out: prev });
    expect(res2.stderr).toMatch(/^st3d: blocks\.0\.o\.bias: missing file/);
    expect(snapshot(prev)).toEqual(prevSnapshot);
  });
});

describe("the .npy reader never crashes on damaged bytes", () => {
  const spec = { name: "blocks.0.q.weight", shape: [3, 5], bits: 8, bitsField: "weightBits" as const };
  const dtypes: NpyWriteDtype[] = ["|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "|b1"];
  it("random truncations and byte edits of valid files give NpyError / TensorError or a valid array", () => {
    const dir = tmp("npyfuzz");
    const file = path.join(dir, "t.npy");
    let errors = 0;
    let ok = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...dtypes),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 16 }),
        (dtype, edits, cut, extra) => {
          const vals = Array.from({ length: 15 }, (_, i) => (dtype === "|b1" ? i & 1 : i));
          let buf = Buffer.from(serializeNpy(spec.shape, vals, dtype));
          for (const [at, v] of edits) buf[at % buf.length] = v;
          if (cut !== undefined) buf = buf.subarray(0, cut % (buf.length + 1));
          buf = Buffer.concat([buf, Buffer.from(extra)]);
          try {
            parseNpy(buf, "t.npy");
          } catch (e) {
            if (!(e instanceof NpyError)) throw e;
          }
          fs.writeFileSync(file, buf);
          try {
            loadTensorFile(file, spec);
            ok++;
          } catch (e) {
            if (!(e instanceof TensorError)) throw e;
            expect(e.message).toContain(spec.name);
            expect(e.message).toContain(file);
            errors++;
          }
        },
      ),
      { numRuns: 2000, seed: 11 },
    );
    expect(errors).toBeGreaterThan(100);
    expect(ok).toBeGreaterThan(0);
  });
});
