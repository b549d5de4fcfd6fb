/**
 * Verilog formatting helpers: the one place where numbers become Verilog literals and
 * where expressions are widened or narrowed.  They only format (TypeScript decides every
 * width and value beforehand) and they refuse anything that would not print exactly.
 */

/** Unsigned sized decimal literal, checked to fit: ulit(4, 3) -> "4'd3". */
export function ulit(width: number, value: number | bigint): string {
  if (!Number.isInteger(width) || width < 1) throw new Error(`ulit: bad width ${width}`);
  const v = BigInt(value);
  if (typeof value === "number" && !Number.isSafeInteger(value)) throw new Error(`ulit: ${value} is not a safe integer`);
  if (v < 0n || v >> BigInt(width) !== 0n) throw new Error(`ulit: ${value} does not fit ${width} unsigned bits`);
  return `${width}'d${v}`;
}

/** Signed sized decimal literal, checked to fit: slit(8, -3) -> "-8'sd3". */
export function slit(width: number, value: number): string {
  if (!Number.isInteger(width) || width < 1) throw new Error(`slit: bad width ${width}`);
  if (!Number.isSafeInteger(value)) throw new Error(`slit: ${value} is not a safe integer`);
  if (value < -(2 ** (width - 1)) || value > 2 ** (width - 1) - 1) throw new Error(`slit: ${value} does not fit ${width} signed bits`);
  return value < 0 ? `-${width}'sd${-value}` : `${width}'sd${value}`;
}

/** Hexadecimal literal of a bit mask given as the set bit positions (or a bigint): hexMask(4, [0, 1]) -> "4'h3". */
export function hexMask(width: number, bits: number[] | bigint): string {
  if (!Number.isInteger(width) || width < 1) throw new Error(`hexMask: bad width ${width}`);
  if (typeof bits === "bigint") {
    if (bits < 0n || bits >> BigInt(width) !== 0n) throw new Error(`hexMask: mask does not fit ${width} bits`);
    return `${width}'h${bits.toString(16)}`;
  }
  // nibbles, least significant first (linear in the width, also for the 65536-bit routing masks)
  const nib = new Uint8Array(Math.ceil(width / 4));
  for (const b of bits) {
    if (!Number.isInteger(b) || b < 0 || b >= width) throw new Error(`hexMask: bit ${b} outside ${width} bits`);
    nib[b >> 2] |= 1 << (b & 3);
  }
  let hi = nib.length - 1;
  while (hi > 0 && nib[hi] === 0) hi--;
  let hex = "";
  for (let i = hi; i >= 0; i--) hex += nib[i].toString(16);
  return `${width}'h${hex}`;
}

/** Mask literal of the low `ones` bits of a `width`-bit vector: lowMask(8, 3) -> "8'h7". */
export function lowMask(width: number, ones: number): string {
  if (!Number.isInteger(ones) || ones < 0 || ones > width) throw new Error(`lowMask: ${ones} ones in ${width} bits`);
  return hexMask(width, (1n << BigInt(ones)) - 1n);
}

/** All-ones replication of `width` bits: "{8{1'b1}}". */
export const ones = (width: number): string => `{${width}{1'b1}}`;

/**
 * Sign-extend a signed Verilog expression from `from` to `to` bits:
 * sext("x", 4, 6) -> "{ {2{x[3]}}, x }", and just "x" when the widths are equal.
 */
export function sext(expr: string, from: number, to: number): string {
  if (to < from) throw new Error(`sext: cannot narrow ${expr} from ${from} to ${to} bits`);
  if (to === from) return expr;
  return `{ {${to - from}{${expr}[${from - 1}]}}, ${expr} }`;
}

/**
 * Zero-extend an unsigned Verilog expression from `from` to `to` bits:
 * zext("x", 4, 6) -> "{ {2{1'b0}}, x }", and just "x" when the widths are equal.
 */
export function zext(expr: string, from: number, to: number): string {
  if (to < from) throw new Error(`zext: cannot narrow ${expr} from ${from} to ${to} bits`);
  if (to === from) return expr;
  return `{ {${to - from}{1'b0}}, ${expr} }`;
}

/** Zero-extend, or keep the low `to` bits of, an unsigned expression of `from` bits. */
export function resizeU(expr: string, from: number, to: number): string {
  return to < from ? `${expr}[${to - 1}:0]` : zext(expr, from, to);
}

/** A port or net declaration's range: "" for one bit, "[w-1:0] " otherwise. */
export const range = (width: number): string => (width === 1 ? "" : `[${width - 1}:0] `);

/**
 * OR-masks that turn a one-hot vector of `n` bits into its binary index (`bits` wide): index
 * bit b is |(onehot & mask_b).  `zero` marks a bit no index in 0..n-1 sets (mask 0).
 */
export function oneHotIndexMasks(n: number, bits: number): { b: number; mask: string; zero: boolean }[] {
  return [...Array(bits).keys()].map((b) => {
    const set: number[] = [];
    for (let i = 0; i < n; i++) if ((i >> b) & 1) set.push(i);
    return { b, mask: hexMask(n, set), zero: set.length === 0 };
  });
}
