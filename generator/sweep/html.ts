/**
 * sweep.html: one self-contained page (generator/html) — the trade-offs as scatter plots with
 * the Pareto front highlighted, the front and every point as tables, invalid and failed points
 * with their messages.  Links (a point's report, its folder) are relative to the sweep folder,
 * so the page works wherever the folder is copied.  Deterministic: same results, same bytes.
 */
import { esc, page, table, type Cell, type Section } from "../html/html.ts";
import { scatter, type ScatterPoint } from "../html/svg.ts";
import { ST3D_VERSION } from "../config/resolve.ts";
import { METRIC_NAMES, METRICS, objectiveLabel, type MetricName } from "./metrics.ts";
import type { SweepDef } from "./file.ts";
import type { Collected, Row } from "./results.ts";

/** "cycles", "footprintUm2 (µm²)", "utilization (%)" */
function metricLabel(m: MetricName): string {
  const u = m === "utilization" ? "%" : METRICS[m].unit;
  return u && u !== m ? `${m} (${u})` : m;
}

/** The value as plotted: utilization in percent, the rest as computed. */
const shown = (m: MetricName, v: number | null) => (v === null ? null : m === "utilization" ? Number((100 * v).toFixed(6)) : v);

const axisValue = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** The axis that colours the points: integration.mode if swept, else the first axis with 2..8 values. */
function colourAxis(s: SweepDef): { path: string; values: string[] } | null {
  const a = s.axes.find((x) => x.path === "integration.mode") ?? s.axes.find((x) => x.values.length >= 2 && x.values.length <= 8);
  return a ? { path: a.path, values: a.values.map(axisValue) } : null;
}

function pointLabel(s: SweepDef, r: Row): string {
  const ax = s.axes.map((a) => `${a.path.split(".").pop()}=${axisValue(r.axes[a.path])}`).join(" ");
  return `#${r.index} ${ax}`.trim();
}

function charts(s: SweepDef, c: Collected): string {
  const colour = colourAxis(s);
  const out: string[] = [];
  const pairs: [MetricName, MetricName][] = [];
  const objs = s.objectives.map((o) => o.metric);
  for (let i = 0; i < objs.length; i++) for (let j = i + 1; j < objs.length; j++) pairs.push([objs[i], objs[j]]);
  const workloads = c.fronts.map((f) => f.workload);
  const numericAxes = s.axes.filter((a) => a.values.every((v) => typeof v === "number"));
  for (const wl of workloads.slice(0, 6)) {
    const rows = c.rows.filter((r) => r.status === "ok" && wlKey(r) === wl);
    const mk = (xm: (r: Row) => number | null, ym: (r: Row) => number | null): ScatterPoint[] =>
      rows
        .filter((r) => xm(r) !== null && ym(r) !== null)
        .map((r) => ({
          x: xm(r) as number,
          y: ym(r) as number,
          label: pointLabel(s, r),
          front: r.front,
          href: r.files.report ?? undefined,
          group: colour ? Math.max(0, colour.values.indexOf(axisValue(r.axes[colour.path]))) : 0,
        }));
    const suffix = workloads.length > 1 ? ` — ${wl}` : "";
    if (pairs.length)
      for (const [x, y] of pairs)
        out.push(
          scatter({
            title: `${y} vs ${x}${suffix}`,
            xLabel: metricLabel(x),
            yLabel: metricLabel(y),
            points: mk((r) => shown(x, r.metrics[x]), (r) => shown(y, r.metrics[y])),
            groups: colour?.values,
            frontLine: objs.length === 2,
          }),
        );
    else
      for (const a of numericAxes.length ? numericAxes : s.axes.slice(0, 1)) {
        const y = objs[0];
        const xs = a.values.map(axisValue);
        out.push(
          scatter({
            title: `${y} vs ${a.path}${suffix}`,
            xLabel: numericAxes.length ? a.path : `${a.path} (index: ${xs.join(", ")})`,
            yLabel: metricLabel(y),
            points: mk((r) => (numericAxes.length ? (r.axes[a.path] as number) : xs.indexOf(axisValue(r.axes[a.path]))), (r) => shown(y, r.metrics[y])),
            groups: colour?.values,
          }),
        );
      }
  }
  if (!out.length) return `<p class="note">No point has values for the objectives yet.</p>`;
  return `<p class="note">Highlighted (large, outlined): on the Pareto front over all objectives (${esc(s.objectives.map(objectiveLabel).join(", "))})${workloads.length > 1 ? ", per workload" : ""}.${colour ? ` Colour: ${esc(colour.path)}.` : ""} Points with a report link to it.</p>\n<div class="charts">${out.join("\n")}</div>`;
}

function wlKey(r: Row): string {
  const w = r.workload as { density?: number; seed?: number; model?: string };
  return w.model !== undefined ? `m${w.model}` : `d${w.density}-s${w.seed}`;
}

function fmtMetric(m: MetricName, v: number | null): Cell {
  if (v === null || v === undefined) return "";
  if (m === "utilization") return { text: `${(100 * v).toFixed(1)}%` };
  return v;
}

function link(href: string | null, text: string): Cell {
  return href ? { html: `<a href="${esc(href)}">${esc(text)}</a>` } : "";
}

export function sweepHtml(s: SweepDef, c: Collected, command?: string): string {
  const computed = METRIC_NAMES.filter((m) => c.rows.some((r) => r.metrics[m] !== null));
  const axisHeads = s.axes.map((a) => a.path);
  const multiWl = c.fronts.length > 1;
  const wlHead = multiWl ? ["workload"] : [];
  const sections: Section[] = [];
  const n = c.rows.length;
  const summary = table(
    ["", "value"],
    [
      ["points", n],
      ["ok", c.counts.ok],
      ["invalid (config rules)", c.counts.invalid],
      ["failed", c.counts.failed],
      ["not run yet", c.counts.pending],
      ["on the front", c.fronts.reduce((a, f) => a + f.front.length, 0)],
    ],
  );
  const defn = table(
    ["sweep", ""],
    [
      ["base", s.base.includes("/") ? s.base.split("/").pop()! : s.base],
      ...s.axes.map((a) => [`axis ${a.path}`, a.values.map(axisValue).join(", ")] as Cell[]),
      ...Object.entries(s.set).map(([k, v]) => [`set ${k}`, axisValue(v)] as Cell[]),
      ["workload", s.workloads.map((w) => (w.kind === "random" ? `random model, density ${w.density}, seed ${w.seed}` : `model folder (${w.hash})`)).join("; ")],
      ["stages", s.stages.join(", ") + (s.stages.includes("cycles") ? ` (${s.cycles.sim}, ${s.cycles.view} view${s.cycles.check ? ", output checked against the golden model" : ""})` : "")],
      ["objectives", s.objectives.map(objectiveLabel).join(", ")],
    ],
  );
  sections.push({ id: "summary", title: "Summary", html: `<div class="charts">${summary}${defn}</div>` });
  sections.push({ id: "tradeoffs", title: "Trade-offs", html: charts(s, c) });

  const frontRows: Cell[][] = [];
  for (const g of c.fronts)
    for (const i of g.front) {
      const r = c.rows[i];
      frontRows.push([
        r.index,
        ...s.axes.map((a) => axisValue(r.axes[a.path])),
        ...(multiWl ? [g.workload] : []),
        ...s.objectives.map((o) => fmtMetric(o.metric, r.metrics[o.metric])),
        link(r.files.report, "report"),
      ]);
    }
  // the best point of each objective (per workload): the ends of the front
  const best: string[] = [];
  for (const g of c.fronts)
    for (const o of s.objectives) {
      const cand = g.front.map((i) => c.rows[i]).filter((r) => r.metrics[o.metric] !== null);
      if (!cand.length) continue;
      const b = cand.reduce((a, r) => ((o.goal === "minimize" ? r.metrics[o.metric]! < a.metrics[o.metric]! : r.metrics[o.metric]! > a.metrics[o.metric]!) ? r : a));
      const v = b.metrics[o.metric]!;
      best.push(`${o.goal === "minimize" ? "lowest" : "highest"} ${esc(o.metric)}${multiWl ? ` (${esc(g.workload)})` : ""}: #${b.index} (${esc(s.axes.map((a) => `${a.path}=${axisValue(b.axes[a.path])}`).join(", "))}) with ${esc(o.metric === "utilization" ? `${(100 * v).toFixed(1)}%` : String(v))}`);
    }
  sections.push({
    id: "front",
    title: "Pareto front",
    html: frontRows.length
      ? `${best.length ? `<ul class="note">${best.map((b) => `<li>${b}</li>`).join("")}</ul>` : ""}\n${table(["#", ...axisHeads, ...wlHead, ...s.objectives.map(objectiveLabel), "report"], frontRows)}`
      : `<p class="note">No point has a value for every objective yet.</p>`,
  });

  const allRows: Cell[][] = c.rows.map((r) => [
    r.index,
    ...s.axes.map((a) => axisValue(r.axes[a.path])),
    ...(multiWl ? [wlKey(r)] : []),
    { text: r.status, cls: r.status === "ok" ? "good" : r.status === "pending" ? "" : "bad" },
    ...computed.map((m) => fmtMetric(m, r.metrics[m])),
    r.front ? "front" : "",
    r.files.report ? link(r.files.report, "report") : link(r.files.dir ? `${r.files.dir}/` : null, "files"),
  ]);
  sections.push({
    id: "points",
    title: "All points",
    html: table(["#", ...axisHeads, ...wlHead, "status", ...computed.map(metricLabel), "front", "files"], allRows, { highlight: (i) => c.rows[i].front }),
  });
  const bad = c.rows.filter((r) => r.status === "invalid" || r.status === "failed");
  if (bad.length)
    sections.push({
      id: "problems",
      title: "Invalid and failed points",
      html: table(
        ["#", "point", "status", "message", "log"],
        bad.map((r) => [r.index, r.label, { text: r.status, cls: "bad" }, { html: `<code>${esc(r.error ?? "")}</code>` }, link(r.files.dir ? `${r.files.dir}/log.txt` : null, "log.txt")]),
      ),
    });
  return page({
    title: `st3d sweep ${s.name}`,
    subtitle: `${n} points: ${s.axes.map((a) => `${a.path} (${a.values.length})`).join(" × ") || "one configuration"}${s.workloads.length > 1 ? ` × ${s.workloads.length} workloads` : ""}; sweep digest ${s.digest}`,
    sections,
    footer: `st3d ${ST3D_VERSION}${command ? ` — ${command}` : ""}\nresults.jsonl / results.csv hold every number of this page; pareto.json the fronts; timing.jsonl the wall times.`,
  });
}
