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
import type { GeneratedFile } from "./render/render.ts";
import { resolvedJson } from "./config/describe.ts";
import { buildAccelerator, type Accelerator } from "./top/accelerator.ts";
import { macrosJson, memoryViews } from "./blocks/memory/macros.ts";
import { packageFiles } from "./package/package.ts";

export interface Design {
  r: Resolved;
  acc: Accelerator;
  files: GeneratedFile[];
  /** top modules that lint and synthesis start from */
  tops: string[];
}

export function buildDesign(r: Resolved): Design {
  const acc = buildAccelerator(r);
  const views = memoryViews(r, acc.memories);
  const files: GeneratedFile[] = [...acc.logicFiles, ...views.files, acc.topFile, ...macrosJson(r, acc.memories)];
  const tops = [acc.top];
  // packaging last: filelists, host testbench and FuseSoC core cover every file and top above
  // (generator/package, docs/IP.md)
  files.push(...packageFiles(r, files, tops), { path: "resolved.json", kind: "report", content: resolvedJson(r) });
  return { r, acc, files: dedupe(files), tops };
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
