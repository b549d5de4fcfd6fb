/** Model folder / input loading: round trip and every error names the tensor, the file and the problem. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadInput, loadModelDir, modelTensorSpecs, randomModel, TensorError, writeInput, writeModelDir } from "../../generator/model/tensors.ts";
import { readNpy, serializeNpy, writeNpy } from "../../generator/util/npy.ts";
import { resolveModelOnly, tmpDir } from "./helpers.ts";

const r = resolveModelOnly({ model: { timesteps: 2, tokens: 4, dim: 8, heads: 2, blocks: 2, experts: 3, topK: 2, expertHidden: 6 } });

function freshDir(): string {
  const dir = tmpDir();
  writeModelDir(r, randomModel(r, 7, 0.2).model, dir);
  return dir;
}
function tensorErr(f: () => unknown): TensorError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TensorError);
    return e as TensorError;
  }
  throw new Error("expected a TensorError");
}

describe("model folder", () => {
  it("lists every SPEC §3 tensor with its shape", () => {
    const specs = modelTensorSpecs(r);
    expect(specs.length).toBe(r.L * (5 + 2 * r.E) * 2);
    const byName = Object.fromEntries(specs.map((s) => [s.name, s.shape]));
    expect(byName["blocks.0.q.weight"]).toEqual([8, 8]);
    expect(byName["blocks.1.o.bias"]).toEqual([8]);
    expect(byName["blocks.0.router.weight"]).toEqual([3, 8]);
    expect(byName["blocks.1.router.bias"]).toEqual([3]);
    expect(byName["blocks.0.experts.2.fc1.weight"]).toEqual([6, 8]);
    expect(byName["blocks.0.experts.2.fc1.bias"]).toEqual([6]);
    expect(byName["blocks.1.experts.0.fc2.weight"]).toEqual([8, 6]);
    expect(byName["blocks.1.experts.0.fc2.bias"]).toEqual([8]);
  });

  it("write + load round trip (weights as int8, biases as int16)", () => {
    const { model, input } = randomModel(r, 7, 0.2);
    const dir = tmpDir();
    writeModelDir(r, model, dir);
    expect(loadModelDir(r, dir)).toEqual(model);
    expect(readNpy(path.join(dir, "blocks.0.q.weight.npy")).dtype).toBe("|i1");
    expect(readNpy(path.join(dir, "blocks.0.q.bias.npy")).dtype).toBe("<i2");
    const f = path.join(dir, "input.npy");
    writeInput(r, input, f);
    expect(loadInput(r, f)).toEqual(input);
  });

  it("accepts any integer dtype whose values fit (e.g. int64, big-endian, uint8)", () => {
    const dir = freshDir();
    const w = readNpy(path.join(dir, "blocks.0.k.weight.npy")).data;
    writeNpy(path.join(dir, "blocks.0.k.weight.npy"), [8, 8], w, "<i8");
    writeNpy(path.join(dir, "blocks.0.v.weight.npy"), [8, 8], w.map((x) => Math.abs(x) % 128), "|u1");
    const m = loadModelDir(r, dir);
    expect(m.blocks[0].k.weight.flat()).toEqual(w);
  });

  it("wrong shape", () => {
    const dir = freshDir();
    writeNpy(path.join(dir, "blocks.0.q.weight.npy"), [8, 7], new Array(56).fill(0), "|i1");
    const e = tensorErr(() => loadModelDir(r, dir));
    expect(e.message).toMatch(/^blocks\.0\.q\.weight: shape \[8,7\], expected \[8,8\]/);
    expect(e.tensor).toBe("blocks.0.q.weight");
    expect(e.file).toBe(path.join(dir, "blocks.0.q.weight.npy"));
    expect(e.message).toContain(e.file);
  });

  it("wrong rank", () => {
    const dir = freshDir();
    writeNpy(path.join(dir, "blocks.1.experts.2.fc1.bias.npy"), [1, 6], new Array(6).fill(0), "<i2");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(/^blocks\.1\.experts\.2\.fc1\.bias: shape \[1,6\], expected \[6\]/);
  });

  it("bias out of biasBits range", () => {
    const dir = freshDir();
    writeNpy(path.join(dir, "blocks.1.router.bias.npy"), [3], [0, 1, 40000], "<i4");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(
      /^blocks\.1\.router\.bias: value 40000 at index \[2\] does not fit biasBits=16 \(range -32768\.\.32767\)/,
    );
  });

  it("weight out of weightBits range, with its 2-D index", () => {
    const dir = freshDir();
    const w = new Array(48).fill(1);
    w[1 * 8 + 5] = -129;
    writeNpy(path.join(dir, "blocks.0.experts.1.fc1.weight.npy"), [6, 8], w, "<i2");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(
      /^blocks\.0\.experts\.1\.fc1\.weight: value -129 at index \[1,5\] does not fit weightBits=8 \(range -128\.\.127\)/,
    );
    writeNpy(path.join(dir, "blocks.0.experts.1.fc1.weight.npy"), [6, 8], new Array(48).fill(200), "|u1");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(/value 200 at index \[0,0\] does not fit weightBits=8/);
  });

  it("missing file", () => {
    const dir = freshDir();
    fs.unlinkSync(path.join(dir, "blocks.1.experts.0.fc2.weight.npy"));
    const e = tensorErr(() => loadModelDir(r, dir));
    expect(e.message).toMatch(/^blocks\.1\.experts\.0\.fc2\.weight: missing file: expected blocks\.1\.experts\.0\.fc2\.weight\.npy with shape \[8,6\]/);
    expect(e.file).toBe(path.join(dir, "blocks.1.experts.0.fc2.weight.npy"));
  });

  it("missing folder", () => {
    expect(tensorErr(() => loadModelDir(r, "/nonexistent/weights")).message).toMatch(/weights folder does not exist/);
  });

  it("float dtype and malformed file are named by tensor", () => {
    const dir = freshDir();
    const f32 = Buffer.from(serializeNpy([3], [0, 0, 0], "<i4").toString("latin1").replace("'<i4'", "'<f4'"), "latin1");
    fs.writeFileSync(path.join(dir, "blocks.0.router.bias.npy"), f32);
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(/^blocks\.0\.router\.bias: unsupported dtype '<f4': floating-point/);
    fs.writeFileSync(path.join(dir, "blocks.0.router.bias.npy"), "hello");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(/^blocks\.0\.router\.bias: truncated file/);
    writeNpy(path.join(dir, "blocks.0.router.bias.npy"), [3], [1, 0, 1], "|b1");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(/^blocks\.0\.router\.bias: dtype \|b1 is not an integer dtype/);
  });

  it("a tensor the config does not use (wrong blocks/experts) is refused", () => {
    const dir = freshDir();
    writeNpy(path.join(dir, "blocks.0.experts.3.fc1.bias.npy"), [6], new Array(6).fill(0), "<i2");
    expect(tensorErr(() => loadModelDir(r, dir)).message).toMatch(/^blocks\.0\.experts\.3\.fc1\.bias: unexpected tensor: the config has blocks=2, experts=3/);
  });
});

describe("input U0", () => {
  it("wrong shape", () => {
    const f = path.join(tmpDir(), "u0.npy");
    writeNpy(f, [2, 4, 7], new Array(56).fill(0), "<i2");
    expect(tensorErr(() => loadInput(r, f)).message).toMatch(/^input: shape \[2,4,7\], expected \[2,4,8\]/);
  });
  it("values must fit residBits", () => {
    const r10 = resolveModelOnly({ model: { ...r.user.model, residBits: 10 } });
    const f = path.join(tmpDir(), "u0.npy");
    const data = new Array(64).fill(5);
    data[63] = 512;
    writeNpy(f, [2, 4, 8], data, "<i2");
    expect(tensorErr(() => loadInput(r10, f)).message).toMatch(/^input: value 512 at index \[1,3,7\] does not fit residBits=10 \(range -512\.\.511\)/);
    expect(loadInput(r, f)[1][3][7]).toBe(512);
  });
  it("missing file", () => {
    expect(tensorErr(() => loadInput(r, "/nonexistent/u0.npy")).message).toMatch(/^input: missing file/);
  });
});
