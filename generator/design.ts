/**
 * The design: every file st3d generates for a resolved config.  One function, so
 * `st3d generate`, `st3d lint`, the rtl-out regeneration check and `st3d run` all see
 * the same files.
 */
import type { Resolved } from "./config/resolve.ts";
import { LIF_FAMILIES } from "./config/resolve.ts";
import type { GeneratedFile } from "./render/render.ts";
import { lifArrayParams, renderLifArray, renderLifArrayMemModel } from "./blocks/lifArray/lifArray.ts";
import { resolvedJson } from "./config/describe.ts";

export interface Design {
  r: Resolved;
  files: GeneratedFile[];
  /** top modules that lint and synthesis start from */
  tops: string[];
}

export function buildDesign(r: Resolved): Design {
  const files: GeneratedFile[] = [];
  const tops: string[] = [];
  const neurons = { shortcut: r.N * r.D, qkv: r.N * r.D, attn: r.N * r.D, hidden: r.N * r.F };
  for (const fam of LIF_FAMILIES) {
    if (fam === "attn" && r.attention === "sdsa") continue;
    const p = lifArrayParams(r, r.lif[fam], fam, neurons[fam], r.hw.linearLanes, fam === "hidden");
    files.push(...renderLifArray(r, p), renderLifArrayMemModel(r, p));
    tops.push(p.module);
  }
  files.push({ path: "resolved.json", kind: "report", content: resolvedJson(r) });
  return { r, files: dedupe(files), tops };
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
