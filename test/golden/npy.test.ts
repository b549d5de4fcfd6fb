/** .npy reader/writer: round trips, every dtype and version, and every error. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { flatten, NpyError, parseNpy, unflatten, readNpy, serializeNpy, writeNpy, type NpyWriteDtype } from "../../generator/util/npy.ts";
import { tmpDir, VECTORS } from "./helpers.ts";

/** Build a .npy buffer by hand: version major, header dict text, raw data bytes. */
function makeNpy(header: string, data: number[] | Uint8Array, major = 1): Buffer {
  const pre = major === 1 ? 10 : 12;
  let h = header;
  const total = Math.ceil((pre + h.length + 1) / 64) * 64;
  h = h + " ".repeat(total - pre - h.length - 1) + "\n";
  const hb = Buffer.from(h, major === 3 ? "utf8" : "latin1");
  const out = Buffer.alloc(pre + hb.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0], 0);
  if (major === 1) out.writeUInt16LE(hb.length, 8);
  else out.writeUInt32LE(hb.length, 8);
  out.set(hb, pre);
  out.set(data, pre + hb.length);
  return out;
}
const hdr = (descr: string, shape: string, fortran = "False") => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

function bytes(n: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(n);
  write(b);
  return b;
}

describe("round trip", () => {
  const cases: [NpyWriteDtype, number[]][] = [
    ["|i1", [-128, -1, 0, 1, 127, 5]],
    ["|u1", [0, 1, 200, 255, 7, 9]],
    ["<i2", [-32768, -2, 0, 3, 32767, 100]],
    ["<u2", [0, 65535, 1, 2, 3, 4]],
    ["<i4", [-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 12345]],
    ["<u4", [0, 2 ** 32 - 1, 1, 2, 3, 4]],
    ["<i8", [-(2 ** 53 - 1), -1, 0, 1, 2 ** 53 - 1, 2 ** 40]],
    ["<u8", [0, 2 ** 53 - 1, 1, 2, 3, 4]],
    ["|b1", [0, 1, 1, 0, 0, 1]],
  ];
  for (const [dtype, data] of cases)
    it(dtype, () => {
      const a = parseNpy(serializeNpy([2, 3], data, dtype));
      expect(a).toEqual({ shape: [2, 3], dtype, data });
    });
  it("file round trip, default int32, header aligned to 64 bytes", () => {
    const f = path.join(tmpDir(), "x.npy");
    writeNpy(f, [2, 2, 2], [1, -2, 3, -4, 5, -6, 7, -8]);
    const buf = fs.readFileSync(f);
    expect((10 + buf.readUInt16LE(8)) % 64).toBe(0);
    expect(buf.subarray(10, 10 + buf.readUInt16LE(8)).toString("latin1")).toMatch(/^\{'descr': '<i4', 'fortran_order': False, 'shape': \(2, 2, 2\), \} *\n$/);
    expect(readNpy(f)).toEqual({ shape: [2, 2, 2], dtype: "<i4", data: [1, -2, 3, -4, 5, -6, 7, -8] });
  });
  it("1-D and 0-D shapes", () => {
    expect(parseNpy(serializeNpy([3], [1, 2, 3])).shape).toEqual([3]);
    expect(parseNpy(serializeNpy([], [42]))).toEqual({ shape: [], dtype: "<i4", data: [42] });
    expect(parseNpy(serializeNpy([0, 4], [])).data).toEqual([]);
  });
  it("reads the numpy-written reference vectors", () => {
    const a = readNpy(path.join(VECTORS, "p1/weights/blocks.0.q.weight.npy"));
    expect(a.dtype).toBe("|i1");
    expect(a.shape).toEqual([8, 8]);
    const b = readNpy(path.join(VECTORS, "p1/input.npy"));
    expect(b.dtype).toBe("<i2");
    expect(b.shape).toEqual([2, 4, 8]);
  });
});

describe("flatten / unflatten", () => {
  it("row-major, inverse of each other", () => {
    const x = [[[1, 2], [3, 4], [5, 6]], [[7, 8], [9, 10], [11, 12]]];
    const f = flatten(x);
    expect(f).toEqual({ shape: [2, 3, 2], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
    expect(unflatten(f.shape, f.data)).toEqual(x);
    expect(() => flatten([[1, 2], [3]])).toThrow(NpyError);
  });
});

describe("reading every dtype and byte order", () => {
  it("big-endian integers", () => {
    expect(parseNpy(makeNpy(hdr(">i2", "(2,)"), bytes(4, (b) => (b.writeInt16BE(-300, 0), b.writeInt16BE(7, 2))))).data).toEqual([-300, 7]);
    expect(parseNpy(makeNpy(hdr(">u2", "(1,)"), bytes(2, (b) => b.writeUInt16BE(65000, 0)))).data).toEqual([65000]);
    expect(parseNpy(makeNpy(hdr(">i4", "(1,)"), bytes(4, (b) => b.writeInt32BE(-70000, 0)))).data).toEqual([-70000]);
    expect(parseNpy(makeNpy(hdr(">u4", "(1,)"), bytes(4, (b) => b.writeUInt32BE(4e9, 0)))).data).toEqual([4e9]);
    expect(parseNpy(makeNpy(hdr(">i8", "(1,)"), bytes(8, (b) => b.writeBigInt64BE(-5n, 0)))).data).toEqual([-5]);
    expect(parseNpy(makeNpy(hdr(">u8", "(1,)"), bytes(8, (b) => b.writeBigUInt64BE(2n ** 50n, 0)))).data).toEqual([2 ** 50]);
    expect(parseNpy(makeNpy(hdr(">i1", "(1,)"), [0xff])).data).toEqual([-1]);
  });
  it("little-endian and bool", () => {
    expect(parseNpy(makeNpy(hdr("<i8", "(1,)"), bytes(8, (b) => b.writeBigInt64LE(-(2n ** 52n), 0)))).data).toEqual([-(2 ** 52)]);
    expect(parseNpy(makeNpy(hdr("|b1", "(3,)"), [1, 0, 1]))).toEqual({ shape: [3], dtype: "|b1", data: [1, 0, 1] });
    expect(parseNpy(makeNpy(hdr("|u1", "(2, 1)"), [250, 3])).data).toEqual([250, 3]);
  });
  it("format versions 2.0 and 3.0", () => {
    expect(parseNpy(makeNpy(hdr("<i2", "(2,)"), bytes(4, (b) => (b.writeInt16LE(-1, 0), b.writeInt16LE(9, 2))), 2)).data).toEqual([-1, 9]);
    expect(parseNpy(makeNpy(hdr("<i2", "(1,)"), bytes(2, (b) => b.writeInt16LE(77, 0)), 3)).data).toEqual([77]);
  });
  it("header with key order changed and double quotes", () => {
    expect(parseNpy(makeNpy(`{"shape": (2,), "fortran_order": False, "descr": "|i1"}`, [1, 2])).data).toEqual([1, 2]);
  });
});

describe("errors", () => {
  const good = serializeNpy([2], [1, 2], "<i4");
  const err = (f: () => unknown, re: RegExp) => {
    let e: unknown;
    try {
      f();
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(NpyError);
    expect((e as Error).message).toMatch(re);
  };
  it("truncated file", () => {
    err(() => parseNpy(good.subarray(0, 5), "a.npy"), /^a\.npy: truncated file/);
    err(() => parseNpy(good.subarray(0, 40), "a.npy"), /^a\.npy: truncated file: header/);
    err(() => parseNpy(good.subarray(0, good.length - 1), "a.npy"), /^a\.npy: truncated file: shape \[2\] of <i4 needs 8 data bytes, found 7/);
  });
  it("bad magic", () => {
    const b = Buffer.from(good);
    b[1] = 0x41;
    err(() => parseNpy(b, "m.npy"), /^m\.npy: bad magic/);
    err(() => parseNpy(Buffer.from("just some text, not numpy at all"), "t.npy"), /bad magic/);
  });
  it("unsupported version", () => {
    const b = Buffer.from(good);
    b[6] = 4;
    err(() => parseNpy(b, "v.npy"), /unsupported \.npy format version 4/);
  });
  it("malformed header", () => {
    err(() => parseNpy(makeNpy("{'fortran_order': False, 'shape': (2,), }", [1, 2]), "h.npy"), /^h\.npy: malformed header: no 'descr'/);
    err(() => parseNpy(makeNpy("{'descr': '|i1', 'fortran_order': False, }", [1, 2]), "h.npy"), /no 'shape'/);
    err(() => parseNpy(makeNpy("{'descr': '|i1', 'shape': (2,), }", [1, 2]), "h.npy"), /no 'fortran_order'/);
    err(() => parseNpy(makeNpy("garbage", [1, 2]), "h.npy"), /malformed header \(not a dict\)/);
    err(() => parseNpy(makeNpy(hdr("|i1", "(x,)"), [1, 2]), "h.npy"), /bad shape entry 'x'/);
  });
  it("data length mismatch (extra bytes)", () => {
    err(() => parseNpy(Buffer.concat([good, Buffer.from([0])]), "d.npy"), /^d\.npy: data length mismatch: .* \(1 extra\)/);
  });
  it("unsupported dtypes", () => {
    err(() => parseNpy(makeNpy(hdr("<f4", "(1,)"), [0, 0, 0, 0]), "f.npy"), /^f\.npy: unsupported dtype '<f4': floating-point/);
    err(() => parseNpy(makeNpy(hdr("<f8", "(1,)"), new Uint8Array(8)), "f.npy"), /floating-point/);
    err(() => parseNpy(makeNpy(hdr("<c8", "(1,)"), new Uint8Array(8)), "f.npy"), /floating-point/);
    err(() => parseNpy(makeNpy(hdr("<U3", "(1,)"), new Uint8Array(12)), "s.npy"), /unsupported dtype '<U3'/);
    err(() => parseNpy(makeNpy(hdr("|O", "(1,)"), new Uint8Array(8)), "o.npy"), /unsupported dtype '\|O'/);
    err(() => parseNpy(makeNpy(`{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(4)), "r.npy"), /structured/);
  });
  it("fortran order", () => {
    err(() => parseNpy(makeNpy(hdr("<i2", "(2, 2)", "True"), new Uint8Array(8)), "F.npy"), /^F\.npy: fortran_order=True is not supported/);
  });
  it("int64 beyond 2^53", () => {
    err(() => parseNpy(makeNpy(hdr("<i8", "(2,)"), bytes(16, (b) => b.writeBigInt64LE(2n ** 53n, 8))), "big.npy"), /^big\.npy: value 9007199254740992 at flat index 1 does not fit a JS number/);
    err(() => parseNpy(makeNpy(hdr("<u8", "(1,)"), bytes(8, (b) => b.writeBigUInt64LE(2n ** 64n - 1n, 0))), "big.npy"), /does not fit a JS number/);
    err(() => parseNpy(makeNpy(hdr(">i8", "(1,)"), bytes(8, (b) => b.writeBigInt64BE(-(2n ** 60n), 0))), "big.npy"), /does not fit a JS number/);
  });
  it("missing file names the file", () => {
    err(() => readNpy("/nonexistent/dir/w.npy"), /^\/nonexistent\/dir\/w\.npy: file not found/);
  });
  it("writing: value out of dtype range, wrong data length", () => {
    err(() => serializeNpy([2], [1, 300], "|i1", "o.npy"), /^o\.npy: value 300 at flat index 1 does not fit dtype \|i1 \(range -128\.\.127\)/);
    err(() => serializeNpy([2], [1.5, 3], "<i4", "o.npy"), /value 1\.5/);
    err(() => serializeNpy([2, 2], [1, 2, 3], "<i4", "o.npy"), /data length mismatch: shape \[2,2\] holds 4 values, got 3/);
  });
});
