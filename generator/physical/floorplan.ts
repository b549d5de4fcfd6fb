/**
 * Where the top-level instances sit, and how long the wires between them are.  Pluggable: the
 * timing and power of a view take any `Floorplan` (issue #15 refines it); `shelfFloorplan` is
 * the simple default:
 *   - each instance is a square of its cell + macro area (µm², from synthesis);
 *   - per tier, the squares are packed row by row ("shelf" packing, netlist order) into a die
 *     whose width is the side of the square of the larger tier's area (utilization 1, as in
 *     3d_manifest.json), both tiers of a 3D view on dies of the same width;
 *   - a wire from a driver to a sink runs centre to centre, Manhattan;
 *   - across the bond (3D): the lateral offset between the centres on their own dies, plus one
 *     hybrid bond (R, C).
 */
import type { Tier } from "../top/netlist.ts";

export interface Placed {
  inst: string;
  tier: Tier;
  /** lower-left corner and size, µm */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Floorplan {
  /** e.g. "shelf" */
  kind: string;
  dieWidthUm: number;
  /** die height per tier (the shelf rows may leave the square) */
  dieHeightUm: Record<Tier, number>;
  place: Map<string, Placed>;
  source: string;
}

export interface Branch {
  /** lateral routed length, µm */
  lengthUm: number;
  /** crosses the face-to-face bond */
  bond: boolean;
}

/** Distance source: the branch from a driver instance to a sink instance. */
export interface DistanceSource {
  branch(driverInst: string, sinkInst: string): Branch;
  describe(): string;
}

export function shelfFloorplan(instances: readonly { name: string; areaUm2: number }[], tierOf: (inst: string) => Tier): Floorplan {
  const tiers: Tier[] = ["bottom", "top"];
  const total = (t: Tier) => instances.filter((i) => tierOf(i.name) === t).reduce((a, i) => a + i.areaUm2, 0);
  const width = Math.sqrt(Math.max(total("bottom"), total("top"), 1));
  const place = new Map<string, Placed>();
  const heights = { bottom: 0, top: 0 } as Record<Tier, number>;
  for (const t of tiers) {
    let x = 0;
    let y = 0;
    let rowH = 0;
    for (const i of instances) {
      if (tierOf(i.name) !== t) continue;
      const s = Math.sqrt(Math.max(i.areaUm2, 0));
      if (x > 0 && x + s > width + 1e-9) {
        y += rowH;
        x = 0;
        rowH = 0;
      }
      place.set(i.name, { inst: i.name, tier: t, x, y, w: s, h: s });
      x += s;
      rowH = Math.max(rowH, s);
    }
    heights[t] = y + rowH;
  }
  return { kind: "shelf", dieWidthUm: width, dieHeightUm: heights, place, source: "st3d shelf floorplan: instance squares of their synthesized area, packed in netlist order into rows of the die width (sqrt of the larger tier area)" };
}

const centre = (p: Placed) => ({ x: p.x + p.w / 2, y: p.y + p.h / 2 });

/** Centre-to-centre Manhattan branches over a floorplan; a branch between tiers crosses the bond. */
export function floorplanDistances(fp: Floorplan): DistanceSource {
  return {
    branch(a: string, b: string): Branch {
      const pa = fp.place.get(a);
      const pb = fp.place.get(b);
      if (!pa || !pb) throw new Error(`floorplan ${fp.kind}: no placement for ${pa ? b : a}`);
      const ca = centre(pa);
      const cb = centre(pb);
      return { lengthUm: Math.abs(ca.x - cb.x) + Math.abs(ca.y - cb.y), bond: pa.tier !== pb.tier };
    },
    describe: () => `${fp.source}; centre-to-centre Manhattan length`,
  };
}
