/**
 * NumPy .npy reader and writer (format versions 1.0, 2.0 and 3.0), integers only.
 *
 * Reading accepts little- and big-endian int8/16/32/64, uint8/16/32/64 and bool
 * ('|b1', read as 0/1).  Float, complex, string, object and structured dtypes
 * are refused, as is fortran_order=True.  64-bit values outside the exactly
 * representable range of a JS number (|x| > 2^53 - 1) are refused.
 *
 * Every problem is an NpyError naming the file and what is wrong.
 */
import fs from "node:fs";

export class NpyError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "NpyError";
  }
}

export interface NpyArray {
  shape: number[];
  /** the dtype descr as stored in the header, e.g. '<i4', '|i1', '>u2', '|b1' */
  dtype: string;
  /** values in row-major (C) order */
  data: number[];
}

/** Dtypes writeNpy can produce. */
export type NpyWriteDtype = "|i1" | "|u1" | "<i2" | "<u2" | "<i4" | "<u4" | "<i8" | "<u8" | "|b1";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DtypeInfo {
  kind: "i" | "u" | "b";
  size: 1 | 2 | 4 | 8;
  little: boolean;
}

function parseDtype(descr: string, name: string): DtypeInfo {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw new NpyError(name, `unsupported dtype '${descr}': only integer and bool dtypes are accepted`);
  const [, order, kind, sizeStr] = m;
  const size = Number(sizeStr);
  if (kind === "f" || kind === "c")
    throw new NpyError(name, `unsupported dtype '${descr}': floating-point tensors are not accepted, convert to an integer dtype (e.g. int8/int16/int32)`);
  if (kind === "b") {
    if (size !== 1) throw new NpyError(name, `unsupported dtype '${descr}'`);
    return { kind: "b", size: 1, little: true };
  }
  if ((kind !== "i" && kind !== "u") || ![1, 2, 4, 8].includes(size))
    throw new NpyError(name, `unsupported dtype '${descr}': only int8/16/32/64, uint8/16/32/64 and bool are accepted`);
  // '=' is "native" order of the writer; every platform numpy runs on in practice is little endian.
  return { kind, size: size as 1 | 2 | 4 | 8, little: order !== ">" };
}

/** Parse the Python-literal header dict: {'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), } */
function parseHeader(header: string, name: string): { descr: string; fortran: boolean; shape: number[] } {
  const h = header.trim();
  if (!h.startsWith("{") || !h.endsWith("}")) throw new NpyError(name, `malformed header (not a dict): ${JSON.stringify(h.slice(0, 80))}`);
  const descrM = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(h);
  if (!descrM) {
    if (/['"]descr['"]\s*:\s*\[/.test(h)) throw new NpyError(name, "unsupported dtype: structured (record) arrays are not accepted");
    throw new NpyError(name, "malformed header: no 'descr' entry");
  }
  const fortM = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(h);
  if (!fortM) throw new NpyError(name, "malformed header: no 'fortran_order' entry");
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(h);
  if (!shapeM) throw new NpyError(name, "malformed header: no 'shape' entry");
  const parts = shapeM[1]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const shape = parts.map((s) => {
    const v = /^\d+L?$/.test(s) ? Number(s.replace(/L$/, "")) : NaN;
    if (!Number.isSafeInteger(v)) throw new NpyError(name, `malformed header: bad shape entry '${s}'`);
    return v;
  });
  return { descr: descrM[2], fortran: fortM[1] === "True", shape };
}

/** Parse an in-memory .npy file; `name` is used in error messages. */
export function parseNpy(buf: Uint8Array, name = "(buffer)"): NpyArray {
  if (buf.length < 10) throw new NpyError(name, `truncated file: ${buf.length} bytes, a .npy file has at least 10 bytes of preamble`);
  for (let i = 0; i < MAGIC.length; i++)
    if (buf[i] !== MAGIC[i]) throw new NpyError(name, "bad magic: not a NumPy .npy file (expected '\\x93NUMPY' at the start)");
  const major = buf[6];
  const minor = buf[7];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError(name, `truncated file: ${buf.length} bytes, too short for a version ${major}.${minor} preamble`);
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new NpyError(name, `unsupported .npy format version ${major}.${minor} (supported: 1.x, 2.x, 3.x)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > buf.length)
    throw new NpyError(name, `truncated file: header says ${headerLen} bytes of header but only ${buf.length - headerStart} bytes follow`);
  const headerBytes = buf.subarray(headerStart, dataStart);
  const header = major === 3 ? new TextDecoder("utf-8").decode(headerBytes) : new TextDecoder("latin1").decode(headerBytes);
  const { descr, fortran, shape } = parseHeader(header, name);
  const dt = parseDtype(descr, name);
  if (fortran)
    throw new NpyError(name, "fortran_order=True is not supported: save the array in C (row-major) order, e.g. np.save(f, np.ascontiguousarray(a))");
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * dt.size;
  const have = buf.length - dataStart;
  if (have < need)
    throw new NpyError(name, `truncated file: shape [${shape.join(",")}] of ${descr} needs ${need} data bytes, found ${have}`);
  if (have > need)
    throw new NpyError(name, `data length mismatch: shape [${shape.join(",")}] of ${descr} needs ${need} data bytes, found ${have} (${have - need} extra)`);

  const data: number[] = new Array(count);
  const le = dt.little;
  let off = dataStart;
  switch (dt.kind === "b" ? "b" : `${dt.kind}${dt.size}`) {
    case "b":
      for (let i = 0; i < count; i++) {
        const v = buf[off + i];
        if (v > 1) throw new NpyError(name, `bad bool value ${v} at flat index ${i}`);
        data[i] = v;
      }
      break;
    case "i1":
      for (let i = 0; i < count; i++) data[i] = dv.getInt8(off + i);
      break;
    case "u1":
      for (let i = 0; i < count; i++) data[i] = buf[off + i];
      break;
    case "i2":
      for (let i = 0; i < count; i++, off += 2) data[i] = dv.getInt16(off, le);
      break;
    case "u2":
      for (let i = 0; i < count; i++, off += 2) data[i] = dv.getUint16(off, le);
      break;
    case "i4":
      for (let i = 0; i < count; i++, off += 4) data[i] = dv.getInt32(off, le);
      break;
    case "u4":
      for (let i = 0; i < count; i++, off += 4) data[i] = dv.getUint32(off, le);
      break;
    case "i8":
    case "u8": {
      const signed = dt.kind === "i";
      const maxB = BigInt(Number.MAX_SAFE_INTEGER);
      for (let i = 0; i < count; i++, off += 8) {
        const v = signed ? dv.getBigInt64(off, le) : dv.getBigUint64(off, le);
        if (v > maxB || v < -maxB)
          throw new NpyError(name, `value ${v} at flat index ${i} does not fit a JS number exactly (|x| must be < 2^53)`);
        data[i] = Number(v);
      }
      break;
    }
  }
  return { shape, dtype: descr, data };
}

/** Read a .npy file from disk. */
export function readNpy(file: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NpyError(file, code === "ENOENT" ? "file not found" : `cannot read: ${(e as Error).message}`);
  }
  return parseNpy(buf, file);
}

const WRITE_INFO: Record<NpyWriteDtype, { size: number; lo: number | bigint; hi: number | bigint }> = {
  "|i1": { size: 1, lo: -128, hi: 127 },
  "|u1": { size: 1, lo: 0, hi: 255 },
  "|b1": { size: 1, lo: 0, hi: 1 },
  "<i2": { size: 2, lo: -32768, hi: 32767 },
  "<u2": { size: 2, lo: 0, hi: 65535 },
  "<i4": { size: 4, lo: -(2 ** 31), hi: 2 ** 31 - 1 },
  "<u4": { size: 4, lo: 0, hi: 2 ** 32 - 1 },
  "<i8": { size: 8, lo: -Number.MAX_SAFE_INTEGER, hi: Number.MAX_SAFE_INTEGER },
  "<u8": { size: 8, lo: 0, hi: Number.MAX_SAFE_INTEGER },
};

/** Serialize to .npy bytes (format 1.0, header padded to a multiple of 64 bytes like numpy does). */
export function serializeNpy(shape: number[], data: ArrayLike<number>, dtype: NpyWriteDtype = "<i4", name = "(buffer)"): Buffer {
  const info = WRITE_INFO[dtype];
  if (!info) throw new NpyError(name, `unsupported dtype '${dtype}' for writing (supported: ${Object.keys(WRITE_INFO).join(", ")})`);
  for (const s of shape)
    if (!Number.isSafeInteger(s) || s < 0) throw new NpyError(name, `bad shape [${shape.join(",")}]`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count)
    throw new NpyError(name, `data length mismatch: shape [${shape.join(",")}] holds ${count} values, got ${data.length}`);
  const shapeStr = shape.length === 0 ? "()" : shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const pre = 10;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header + " ".repeat(total - pre - header.length - 1) + "\n";
  const out = Buffer.alloc(total + count * info.size);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, pre, "latin1");
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let off = total;
  for (let i = 0; i < count; i++, off += info.size) {
    const v = data[i];
    if (!Number.isInteger(v) || v < (info.lo as number) || v > (info.hi as number))
      throw new NpyError(name, `value ${v} at flat index ${i} does not fit dtype ${dtype} (range ${info.lo}..${info.hi})`);
    switch (dtype) {
      case "|i1":
        dv.setInt8(off, v);
        break;
      case "|u1":
      case "|b1":
        dv.setUint8(off, v);
        break;
      case "<i2":
        dv.setInt16(off, v, true);
        break;
      case "<u2":
        dv.setUint16(off, v, true);
        break;
      case "<i4":
        dv.setInt32(off, v, true);
        break;
      case "<u4":
        dv.setUint32(off, v, true);
        break;
      case "<i8":
        dv.setBigInt64(off, BigInt(v), true);
        break;
      case "<u8":
        dv.setBigUint64(off, BigInt(v), true);
        break;
    }
  }
  return out;
}

/** Write a .npy file (default int32, little endian). */
export function writeNpy(file: string, shape: number[], data: ArrayLike<number>, dtype: NpyWriteDtype = "<i4"): void {
  fs.writeFileSync(file, serializeNpy(shape, data, dtype, file));
}

/** Flatten a nested number array in row-major order and return [shape, flat]. Ragged input is an error. */
export function flatten(nested: unknown, name = "(array)"): { shape: number[]; data: number[] } {
  const shape: number[] = [];
  let cur: unknown = nested;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  const data: number[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (typeof v !== "number") throw new NpyError(name, `ragged or non-numeric array at depth ${depth}`);
      data.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw new NpyError(name, `ragged array: expected length ${shape[depth]} at depth ${depth}`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(nested, 0);
  return { shape, data };
}

/** Reshape a flat row-major array into nested arrays of the given shape (at least 1-D). */
export function unflatten(shape: number[], data: ArrayLike<number>): unknown {
  let off = 0;
  const build = (depth: number): unknown => {
    const n = shape[depth];
    if (depth === shape.length - 1) {
      const row = new Array<number>(n);
      for (let i = 0; i < n; i++) row[i] = data[off++];
      return row;
    }
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = build(depth + 1);
    return out;
  };
  return shape.length === 0 ? data[0] : build(0);
}
