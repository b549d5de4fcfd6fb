/**
 * The report folder (`st3d report ... -o DIR`), written atomically through the project's output
 * rule (generator/output.ts):
 *   report.json     the model's figures, stable keys, no wall time (docs/REPORT.md)
 *   report.html     the same, for a person (./page.ts), self-contained
 *   timings.json    wall times and cache hits of this run (differs between runs)
 *   views/<view>/   per view: the generated design of that integration mode (RTL, macro
 *                   reports, and for 3D the bond map, 3d_manifest.json, Pin-3D partition.txt,
 *                   3Dblox package), and orfs/<die top>/ (./orfs.ts) for every die
 */
import type { GeneratedFile } from "../core/files.ts";
import { writeOutputDir } from "../output.ts";
import type { ReportResult, ViewId } from "./flow.ts";
import { reportPage } from "./page.ts";
import { orfsFiles } from "./orfs.ts";

export function reportFiles(res: ReportResult): GeneratedFile[] {
  const j = res.json;
  const files: GeneratedFile[] = [
    { path: "report.json", kind: "report", content: JSON.stringify(j, null, 2) + "\n" },
    { path: "report.html", kind: "report", content: reportPage(j) },
    { path: "timings.json", kind: "report", content: JSON.stringify(res.timings, null, 2) + "\n" },
  ];
  for (const [v, d] of Object.entries(res.designs) as [ViewId, NonNullable<ReportResult["designs"][ViewId]>][]) {
    for (const f of d.files) files.push({ ...f, path: `views/${v}/${f.path}` });
    const header = `st3d ${j.generator.replace(/^st3d /, "")}, config hash ${j.hash}, view ${v} (generator/report/orfs.ts); regenerate with: ${j.command || "st3d report"}`;
    for (const f of orfsFiles(d, j.clock.periodNs, header)) files.push({ ...f, path: `views/${v}/${f.path}` });
  }
  return files;
}

/** Write the report folder; returns the paths written. */
export function writeReport(dir: string, res: ReportResult, opts: { force?: boolean } = {}): string[] {
  const j = res.json;
  return writeOutputDir(dir, reportFiles(res), { generator: j.generator, command: "report", design: j.design, configHash: j.hash }, opts);
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? "   –   " : `${v >= 0 ? "+" : "-"}${Math.abs(v * 100).toFixed(1)}%`.padStart(7));

/** The short 2D-vs-3D summary printed by `st3d report` and the demo. */
export function summaryText(res: ReportResult): string {
  const j = res.json;
  const vs = (["2d", "memory-on-logic", "logic-on-logic", "auto"] as ViewId[]).filter((v) => j.views[v]);
  const col = (s: string) => s.padStart(17);
  // a row without a change vs 2d returns undefined (null: the change is not defined, printed as –)
  const rows: [string, (v: ViewId) => string, (v: ViewId) => number | null | undefined][] = [
    ["footprint mm²", (v) => (j.views[v]!.footprintUm2 / 1e6).toFixed(4), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.footprint)],
    ["f_eff MHz", (v) => j.views[v]!.feffMHz.toFixed(2), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.feff)],
    ["fmax MHz", (v) => j.views[v]!.fmaxMHz.toFixed(2), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.fmax)],
    ["mem latency ps", (v) => (j.views[v]!.memLatencyPs === null ? "–" : j.views[v]!.memLatencyPs!.toFixed(1)), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.memLatency)],
    ["energy/inf nJ", (v) => j.views[v]!.energyPerInferenceNj.toFixed(3), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.energy)],
    ["power mW", (v) => j.views[v]!.powerMw.toFixed(3), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.power)],
    ["weights mm²", (v) => `${(j.views[v]!.weightStore.areaUm2 / 1e6).toFixed(4)} (${(100 * j.views[v]!.weightStore.footprintShare).toFixed(1)}%)`, () => undefined],
    ["wirelength m", (v) => (j.views[v]!.wirelengthUm / 1e6).toFixed(3), (v) => (v === "2d" ? null : j.comparison[v as Exclude<ViewId, "2d">]!.wirelength)],
  ];
  const out = [`${j.design} on ${j.library.name}, clock target ${j.clock.targetMHz} MHz; activity: ${j.model.source} (${j.model.cycles} cycles)`, "".padEnd(16) + vs.map(col).join("")];
  for (const [label, val, ratio] of rows) out.push(label.padEnd(16) + vs.map((v) => col(`${val(v)}${v === "2d" || ratio(v) === undefined ? "" : ` ${pct(ratio(v))}`}`)).join(""));
  out.push("bonds / budget".padEnd(16) + vs.map((v) => col(v === "2d" ? "–" : `${j.views[v]!.bonds}/${j.views[v]!.bondBudget}`)).join(""));
  const o = j.model.offchip;
  out.push(o ? `weights streamed: ${o.bytesRead} bytes read off chip per inference (${o.modelWeightBytes} bytes of pool weights), DRAM ${(j.views["2d"]!.energy.breakdownPj.dram / 1000).toFixed(3)} nJ` : "weights resident on chip: no off-chip traffic");
  out.push("(3D views: value and change vs 2d; weights mm²: the on-chip weight storage, in brackets its share of the footprint)");
  return out.join("\n") + "\n";
}
