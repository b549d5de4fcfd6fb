/**
 * The design: every file st3d generates for a resolved config.  One function, so
 * `st3d generate`, `st3d lint`, `st3d run`, the rtl-out regeneration check and the 3D
 * flow all see the same files.
 *
 * Kinds: "rtl" = synthesizable (logic, memory wrappers, flop memories, tops);
 * "sim" = behavioral macro models (simulation only); "stub" = blackbox macro stubs
 * (synthesis only); "tb" = the host testbench; "report"/"data" = JSON, filelists, the
 * FuseSoC core and its Yosys script.
 */
import type { Resolved } from "./config/resolve.ts";
import { resolvedJson } from "./config/describe.ts";
import { buildAccelerator, type Accelerator } from "./top/accelerator.ts";
import { macrosJson, memoryViews } from "./blocks/memory/macros.ts";
import { packageFiles } from "./package/package.ts";
import { buildThreeD, memoryTiers, type ThreeD } from "./partition/views.ts";
import type { AreaEstimate, FlatNetlist } from "./partition/areas.ts";
import type { GeneratedFile } from "./core/files.ts";

export interface Design {
  r: Resolved;
  acc: Accelerator;
  files: GeneratedFile[];
  /** top modules that lint and synthesis start from */
  tops: string[];
  /** the two-tier split (undefined for integration.mode "2d") */
  threeD?: ThreeD;
}

export interface DesignOptions {
  /**
   * also the physical 3D views (3d_manifest.json with areas and bond budget, partition.txt,
   * 3Dblox package): they need every module mapped onto the cell library (generator/physical,
   * cached), so they are opt-in (`st3d generate --physical`).  The tier RTL and bond_map.json
   * are always generated for a 3D mode.  Needs `areas` and `flat`.
   */
  physical?: boolean;
  /**
   * instance areas from synthesis, needed by integration.mode "auto" / "logic-on-logic" and by
   * the physical views (computed asynchronously first: generator/physical/design.ts designFor)
   */
  areas?: AreaEstimate;
  /** the flat mapped netlist of the 2D top, for partition.txt (physical views) */
  flat?: FlatNetlist;
}

export function buildDesign(r: Resolved, opts: DesignOptions = {}): Design {
  const acc = buildAccelerator(r);
  let threeD: ThreeD | undefined;
  if (r.integration.mode !== "2d") {
    // partition first, so each memory knows its tier before macros.json is written
    const pre = memoryViews(r, acc.memories);
    threeD = buildThreeD(r, [...acc.logicFiles, ...pre.files, acc.topFile], acc.netlist, { physical: opts.physical ?? false, areas: opts.areas, flat: opts.flat });
    const tiers = memoryTiers(acc.netlist, threeD.assign);
    for (const m of acc.memories) m.tier = tiers.get(m.module) ?? m.tier;
  }
  const views = memoryViews(r, acc.memories);
  const files: GeneratedFile[] = [...acc.logicFiles, ...views.files, acc.topFile, ...macrosJson(r, acc.memories)];
  const tops = [acc.top];
  if (threeD && threeD.files.length) {
    files.push(...threeD.files);
    tops.push(`${r.name}_tier_bottom`, `${r.name}_tier_top`, `${r.name}_3d`);
  }
  // packaging last: filelists, host testbench and FuseSoC core cover every file and top above
  // (generator/package, docs/IP.md)
  files.push(...packageFiles(r, files, tops), { path: "resolved.json", kind: "report", content: resolvedJson(r) });
  return { r, acc, files: dedupe(files), tops, threeD };
}

function dedupe(files: GeneratedFile[]): GeneratedFile[] {
  const m = new Map<string, GeneratedFile>();
  for (const f of files) {
    const prev = m.get(f.path);
    if (prev && prev.content !== f.content) throw new Error(`internal error: two different files named ${f.path}`);
    m.set(f.path, f);
  }
  return [...m.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
}
