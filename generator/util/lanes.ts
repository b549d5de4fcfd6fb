/**
 * Lanes and tiles: a wide vector of channels cut into words of P lanes (lane 0 in the least
 * significant bits, docs/ARCHITECTURE.md "Conventions").  packLanes is the one place values
 * become memory words, host fields or testbench hex; it refuses a value that does not fit its
 * lane instead of silently keeping its low bits.
 */

/** The tiles of a vector of `width` channels cut into words of `lanes`: lsb and real width of each. */
export function tilesOf(width: number, lanes: number): { j: number; lsb: number; w: number; wMsb: number }[] {
  const n = Math.ceil(width / lanes);
  return [...Array(n).keys()].map((j) => {
    const w = Math.min(lanes, width - j * lanes);
    return { j, lsb: j * lanes, w, wMsb: w - 1 };
  });
}

/** How a lane's value is read: two's complement ("signed") or plain binary ("unsigned"). */
export type LaneCoding = "signed" | "unsigned";

/** Is `v` representable in `width` bits with this coding? */
export function fitsLane(v: number | bigint, width: number, coding: LaneCoding): boolean {
  const b = BigInt(v);
  const w = BigInt(width);
  return coding === "signed" ? b >= -(1n << (w - 1n)) && b < 1n << (w - 1n) : b >= 0n && b < 1n << w;
}

/**
 * Pack `values` into one word, value i in bits [i*width, (i+1)*width) (lane 0 least
 * significant), negative values in two's complement.  Throws a RangeError naming the lane when a
 * value does not fit `width` bits with the given coding.
 */
export function packLanes(values: readonly (number | bigint)[], width: number, coding: LaneCoding = "signed"): bigint {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`packLanes: bad lane width ${width}`);
  const w = BigInt(width);
  const mask = (1n << w) - 1n;
  let acc = 0n;
  for (let i = values.length - 1; i >= 0; i--) {
    const v = values[i];
    if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`packLanes: lane ${i} = ${v} is not an integer`);
    if (!fitsLane(v, width, coding)) throw new RangeError(`packLanes: lane ${i} = ${v} does not fit ${width} ${coding} bits`);
    acc = (acc << w) | (BigInt(v) & mask);
  }
  return acc;
}

/** The inverse of packLanes: `count` lanes of `width` bits, decoded with the given coding. */
export function unpackLanes(word: bigint, width: number, count: number, coding: LaneCoding = "signed"): number[] {
  const w = BigInt(width);
  const mask = (1n << w) - 1n;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    let v = (word >> (BigInt(i) * w)) & mask;
    if (coding === "signed" && v >> (w - 1n)) v -= 1n << w;
    out.push(Number(v));
  }
  return out;
}

/** Hex digits of a word of `bits` bits, zero-padded (as $readmemh reads it). */
export function wordHex(word: bigint, bits: number): string {
  if (word < 0n || word >> BigInt(bits) !== 0n) throw new RangeError(`wordHex: word does not fit ${bits} bits`);
  return word.toString(16).padStart(Math.ceil(bits / 4), "0");
}
