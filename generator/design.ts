/**
 * The design: every file st3d generates for a resolved config.  One function, so
 * `st3d generate`, `st3d lint`, `st3d run`, the rtl-out regeneration check and the 3D
 * flow all see the same files.
 *
 * Kinds: "rtl" = synthesizable (logic, memory wrappers, flop memories, tops);
 * "sim" = behavioral macro models (simulation only); "stub" = blackbox macro stubs
 * (synthesis only); "report"/"data" = JSON and filelists.
 */
import type { Resolved } from "./config/resolve.ts";
import type { GeneratedFile } from "./render/render.ts";
import { resolvedJson } from "./config/describe.ts";
import { buildAccelerator, type Accelerator } from "./top/accelerator.ts";
import { macrosJson, memoryViews } from "./blocks/memory/macros.ts";

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
  const sim = files.filter((f) => (f.kind === "rtl" || f.kind === "sim") && f.path.endsWith(".v")).map((f) => f.path);
  const synth = files.filter((f) => (f.kind === "rtl" || f.kind === "stub") && f.path.endsWith(".v")).map((f) => f.path);
  files.push(
    { path: "filelists/sim.f", kind: "data", content: sim.join("\n") + "\n" },
    { path: "filelists/synth.f", kind: "data", content: synth.join("\n") + "\n" },
    { path: "resolved.json", kind: "report", content: resolvedJson(r) },
  );
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
