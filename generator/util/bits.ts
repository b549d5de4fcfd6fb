/** Integer helpers shared by golden models and width derivations (exact for |x| < 2^53). */

/** Clamp x to the signed range of b bits: [-2^(b-1), 2^(b-1)-1]. */
export function sat(x: number, b: number): number {
  const hi = 2 ** (b - 1) - 1;
  const lo = -(2 ** (b - 1));
  return x > hi ? hi : x < lo ? lo : x;
}

/** Arithmetic shift right: floor(x / 2^s), also for negative x (unlike JS >> it is not limited to 32 bits). */
export function asr(x: number, s: number): number {
  return Math.floor(x / 2 ** s);
}

/** ceil(log2(n)) with clog2(1) = 0; the usual Verilog $clog2. */
export function clog2(n: number): number {
  if (n <= 1) return 0;
  return Math.ceil(Math.log2(n) - 1e-12);
}

/** Bits of an unsigned index over n values, at least 1 (so a port is never zero-width). */
export function idxBits(n: number): number {
  return Math.max(1, clog2(n));
}

/** Smallest b such that the signed b-bit range holds [lo, hi]. */
export function signedBitsFor(lo: number, hi: number): number {
  let b = 1;
  while (!(-(2 ** (b - 1)) <= lo && hi <= 2 ** (b - 1) - 1)) b++;
  return b;
}

/** Smallest b such that the unsigned b-bit range holds [0, hi] (at least 1). */
export function unsignedBitsFor(hi: number): number {
  let b = 1;
  while (hi > 2 ** b - 1) b++;
  return b;
}

export const minS = (b: number) => -(2 ** (b - 1));
export const maxS = (b: number) => 2 ** (b - 1) - 1;
