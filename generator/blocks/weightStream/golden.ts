/**
 * Behavioural reference of the weight stream, written from its description (docs/ARCHITECTURE.md
 * "## weightStream"), not from the RTL:
 *  - a read of word a while the consumer works on layer k returns word a of layer k, whatever the
 *    order of the reads and whenever it is granted (the buffer changes when, never what);
 *  - an off-chip image holds word a of a layer in K = ceil(wordBits / W) beats from the layer's
 *    base, little-endian (beat i = word bits [i*W, (i+1)*W)), so the word is those beats
 *    concatenated and cut to wordBits;
 *  - the AXI4 bursts of a fetch of n beats from a base: in address order, each as long as
 *    allowed (at most maxBurst beats, never past a 4 KB boundary).
 */

/** What a read returns: word `addr` of layer `layer` (throws on a read outside the layer). */
export function streamRead(layers: readonly (readonly bigint[])[], layer: number, addr: number): bigint {
  const l = layers[layer];
  if (!l) throw new Error(`streamRead: no layer ${layer}`);
  if (!(Number.isInteger(addr) && addr >= 0 && addr < l.length)) throw new Error(`streamRead: word ${addr} outside layer ${layer} of ${l.length} words`);
  return l[addr];
}

/** Word `a` of a layer whose first beat is beat `firstBeat` of an image of W-bit beats. */
export function imageWord(beats: readonly bigint[], firstBeat: number, a: number, wordBits: number, W: number): bigint {
  const K = Math.ceil(wordBits / W);
  let w = 0n;
  for (let i = K - 1; i >= 0; i--) {
    const b = beats[firstBeat + a * K + i];
    if (b === undefined) throw new Error(`imageWord: beat ${firstBeat + a * K + i} is past the image`);
    w = (w << BigInt(W)) | b;
  }
  return w & ((1n << BigInt(wordBits)) - 1n);
}

/** The bursts (byte address, beats) of a fetch of `beats` beats from byte address `base`. */
export function burstsOf(base: number, beats: number, beatBytes: number, maxBurst: number): { addr: number; beats: number }[] {
  const out: { addr: number; beats: number }[] = [];
  let addr = base;
  let left = beats;
  while (left > 0) {
    const toPage = (4096 - (addr % 4096)) / beatBytes;
    const n = Math.min(left, maxBurst, toPage);
    out.push({ addr, beats: n });
    addr += n * beatBytes;
    left -= n;
  }
  return out;
}
