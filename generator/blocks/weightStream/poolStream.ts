/**
 * The synaptic pool's weights as a weight stream (for the integration of ./weightStream.ts behind
 * the pool; docs/ARCHITECTURE.md "weightStream"): the pool layers in off-chip order, their
 * image (the pool's bank words, docs/ARCHITECTURE.md "synPool", laid out by weightStreamLayout),
 * the order in which the pool uses them for a routing (every block's q, k, v, o, then fc1 and fc2
 * of each expert some row was routed to, ascending), and the bytes an inference reads.
 */
import type { Resolved } from "../../config/resolve.ts";
import type { Model } from "../../model/golden.ts";
import { dataflowGeometry, dataflowImages, POOL_LAYERS, type DataflowGeometry } from "../dataflow/dataflow.ts";
import { weightStreamDepth, weightStreamLayout, type LayerDescriptor, type WeightStreamLayout } from "./weightStream.ts";

export type PoolLayerName = (typeof POOL_LAYERS)[number] | "fc1" | "fc2";

export interface PoolStreamLayer {
  block: number;
  layer: PoolLayerName;
  /** expert of fc1 / fc2, null for q, k, v, o */
  expert: number | null;
  /** first word of the layer in its block's bank wp<block> */
  offset: number;
  /** words of the layer: tiles x fan-in */
  words: number;
}

/** Every pool layer in off-chip order: per block q, k, v, o, then per expert fc1, fc2 (the bank order). */
export function poolStreamLayers(g: DataflowGeometry): PoolStreamLayer[] {
  const out: PoolStreamLayer[] = [];
  for (let b = 0; b < g.L; b++) {
    POOL_LAYERS.forEach((layer, i) => out.push({ block: b, layer, expert: null, offset: i * g.layerW, words: g.layerW }));
    for (let e = 0; e < g.E; e++) {
      const base = 4 * g.layerW + e * g.perExpW;
      out.push({ block: b, layer: "fc1", expert: e, offset: base, words: g.tilesF * g.D });
      out.push({ block: b, layer: "fc2", expert: e, offset: base + g.tilesF * g.D, words: g.tilesD * g.F });
    }
  }
  return out;
}

/** Depth of a buffer half for the pool: its largest layer (tilesD·D, tilesF·D or tilesD·F words). */
export function poolStreamDepth(g: DataflowGeometry): number {
  return weightStreamDepth(poolStreamLayers(g).map((l) => l.words));
}

/** The bits of the two halves against the resident banks (L x blockW words), both of P·weightBits words. */
export function poolBufferBits(r: Resolved, g: DataflowGeometry = dataflowGeometry(r)): { buffer: number; banks: number } {
  const wordBits = g.P * r.weightBits;
  return { buffer: 2 * poolStreamDepth(g) * wordBits, banks: g.L * g.blockW * wordBits };
}

export interface PoolStreamImage {
  layers: PoolStreamLayer[];
  /** the off-chip image and one descriptor per entry of `layers` */
  layout: WeightStreamLayout;
}

/** The off-chip image of a model's pool weights: every layer at a fixed address, in poolStreamLayers order. */
export function poolStreamImage(r: Resolved, model: Model, beatBits: number, o: { base?: number } = {}): PoolStreamImage {
  const g = dataflowGeometry(r);
  const { wp } = dataflowImages(r, g, model);
  const layers = poolStreamLayers(g);
  const layout = weightStreamLayout(
    layers.map((l) => wp[l.block].slice(l.offset, l.offset + l.words)),
    g.P * r.weightBits,
    beatBits,
    o,
  );
  return { layers, layout };
}

/**
 * The descriptors in the pool's order of use for a routing: routed[b][e] = some row of block b
 * was routed to expert e (the dataflow unit runs fc1/fc2 only for those, ascending e).
 */
export function poolStreamOrder(img: PoolStreamImage, routed: readonly (readonly boolean[])[]): { layer: PoolStreamLayer; desc: LayerDescriptor }[] {
  return img.layers
    .map((layer, i) => ({ layer, desc: img.layout.descriptors[i] }))
    .filter(({ layer }) => layer.expert === null || routed[layer.block]?.[layer.expert] === true);
}

/**
 * Bytes an inference reads from off-chip for a routing (each used layer fetched once: the buffer
 * holds a whole layer) against the weight bytes of those layers (words x P·weightBits / 8, the
 * lanes past a layer's outputs included).
 */
export function poolStreamBytes(img: PoolStreamImage, routed: readonly (readonly boolean[])[], r: Resolved): { read: number; payload: number } {
  const used = poolStreamOrder(img, routed);
  const beatBytes = img.layout.beats.length ? img.layout.readBytes / img.layout.beats.length : 0;
  const words = used.reduce((a, u) => a + u.desc.words, 0);
  const P = dataflowGeometry(r).P;
  return { read: words * img.layout.beatsPerWord * beatBytes, payload: (words * P * r.weightBits) / 8 };
}
