/**
 * report.html: the 2D-vs-3D report as one self-contained page (generator/html: inline CSS and
 * SVG, no script, no network), from report.json alone, deterministic.  Sections: the answer
 * (the four views side by side, 3D/2D beside the paper's ranges), area by block and tier,
 * the on-chip weight storage of every view against its footprint and the off-chip traffic,
 * floorplans of every die, wirelength, memory-access latency, frequency, energy and power,
 * bonds against the budget, Rent exponents, every constant with its source, tools.
 * Test hooks (generator/report/report.test.ts): `rect.bar[data-series=<block>]` in the
 * "area by die" chart (one non-zero bar per block and view), `svg.floorplan` (one per die),
 * `rect.bar` of the latency chart (one per path and view), `table.weight-store` (one row per
 * view) and `#offchip-traffic` (weights streamed only).
 */
import { esc, page, table, type Cell } from "../html/html.ts";
import { barChart, rectsSvg, scatter } from "../html/svg.ts";
import type { ReportJson, ViewId, ViewDetail } from "./flow.ts";

const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `${v >= 0 ? "+" : "−"}${Math.abs(v * 100).toFixed(1)} %`);
const n = (v: number | null | undefined, d = 1) => (v === null || v === undefined ? "–" : Number(v.toFixed(d)).toLocaleString("en-US"));
const mm2 = (um2: number) => um2 / 1e6;

type Metric = { label: string; unit: string; get: (v: ViewDetail) => number | null; digits: number; key?: keyof NonNullable<ReportJson["comparison"][Exclude<ViewId, "2d">]> };

const METRICS: Metric[] = [
  { label: "footprint", unit: "mm²", get: (v) => mm2(v.footprintUm2), digits: 4, key: "footprint" },
  { label: "silicon (all dies)", unit: "mm²", get: (v) => mm2(v.siliconUm2), digits: 4, key: "silicon" },
  { label: "standard-cell area", unit: "mm²", get: (v) => mm2(v.cellAreaUm2), digits: 4 },
  { label: "macro area", unit: "mm²", get: (v) => mm2(v.macroAreaUm2), digits: 4 },
  { label: "on-chip weight storage", unit: "kbit", get: (v) => v.weightStore.bits / 1024, digits: 2 },
  { label: "on-chip weight storage area", unit: "mm²", get: (v) => mm2(v.weightStore.areaUm2), digits: 4 },
  { label: "weight storage / footprint", unit: "%", get: (v) => 100 * v.weightStore.footprintShare, digits: 2 },
  { label: "wirelength", unit: "m", get: (v) => v.wirelengthUm / 1e6, digits: 4, key: "wirelength" },
  { label: "bonds", unit: "", get: (v) => v.bonds, digits: 0 },
  { label: "bond budget", unit: "", get: (v) => v.bondBudget, digits: 0 },
  { label: "fmax", unit: "MHz", get: (v) => v.fmaxMHz, digits: 2, key: "fmax" },
  { label: "f_eff = 1/(T − WNS)", unit: "MHz", get: (v) => v.feffMHz, digits: 2, key: "feff" },
  { label: "memory-access latency (mean)", unit: "ps", get: (v) => v.memLatencyPs, digits: 1, key: "memLatency" },
  { label: "energy per inference", unit: "nJ", get: (v) => v.energyPerInferenceNj, digits: 3, key: "energy" },
  { label: "average power at f_eff", unit: "mW", get: (v) => v.powerMw, digits: 3, key: "power" },
  { label: "energy per synaptic op", unit: "pJ", get: (v) => v.pjPerSop, digits: 3 },
];

function viewsOf(j: ReportJson): ViewId[] {
  return (["2d", "memory-on-logic", "logic-on-logic", "auto"] as ViewId[]).filter((v) => j.views[v]);
}

function summary(j: ReportJson): string {
  const vs = viewsOf(j);
  const head = ["metric", "unit", ...vs, ...vs.filter((v) => v !== "2d").map((v) => `${v} vs 2d`)];
  const rows: Cell[][] = METRICS.map((m) => [
    m.label,
    m.unit,
    ...vs.map((v) => {
      const x = m.get(j.views[v]!);
      return x === null ? "–" : Number(x.toFixed(m.digits));
    }),
    ...vs.filter((v) => v !== "2d").map((v) => (m.key ? { text: pct(j.comparison[v as Exclude<ViewId, "2d">]?.[m.key] as number | null) } : "")),
  ]);
  return table(head, rows);
}

function published(j: ReportJson): string {
  const vs = viewsOf(j).filter((v) => v !== "2d") as Exclude<ViewId, "2d">[];
  const rows: Cell[][] = j.published.map((p) => {
    const range = p.text ?? (p.lo === p.hi ? pct(p.lo) : `${pct(p.lo)} … ${pct(p.hi)}`);
    return [
      p.metric,
      range,
      ...vs.map((v) => {
        const c = j.comparison[v];
        const x = c ? (c[p.key as keyof typeof c] as number | null) : null;
        if (x === null || x === undefined) return "–";
        const inside = x >= Math.min(p.lo, p.hi) - 1e-9 && x <= Math.max(p.lo, p.hi) + 1e-9;
        return { text: `${pct(x)} (${inside ? "inside" : x < Math.min(p.lo, p.hi) ? "below" : "above"})`, cls: inside ? "good" : "bad" };
      }),
      p.source,
    ];
  });
  return table(["metric (3D vs 2D)", "published", ...vs, "source"], rows) + `<p class="note">A 3D view's change is (3D / 2D − 1) for the same config, library and activity. st3d's constants are never tuned toward these ranges; docs/REPORT.md explains where and why st3d lands outside them.</p>`;
}

function areaByDie(j: ReportJson): string {
  const vs = viewsOf(j);
  const cats: string[] = [];
  const dieKeys: { v: ViewId; die: string }[] = [];
  const short: Record<ViewId, string> = { "2d": "2d", "memory-on-logic": "MoL", "logic-on-logic": "LoL", auto: "auto" };
  for (const v of vs)
    for (const d of j.views[v]!.dies) {
      cats.push(v === "2d" ? "2d" : `${short[v]} ${d.name === "bottom" ? "bot" : "top"}`);
      dieKeys.push({ v, die: d.name });
    }
  const blocks = j.blocks.map((b) => b.inst);
  const series = blocks.map((b) => ({
    name: b,
    values: dieKeys.map(({ v, die }) => {
      const blk = j.views[v]!.dies.find((d) => d.name === die)!.blocks.find((x) => x.inst === b);
      return blk ? mm2(blk.areaUm2) : 0;
    }),
  }));
  const chart = barChart({ title: "Area of every die by block (cells / utilization + macros)", categories: cats, series, unit: "mm²", stacked: true, width: 900, height: 380 });
  const rows: Cell[][] = j.blocks.map((b) => [b.inst, b.module, b.kind, b.cells, Number((b.cellAreaUm2 / 1e6).toFixed(5)), Number((b.macroAreaUm2 / 1e6).toFixed(5)), ...vs.filter((v) => v !== "2d").map((v) => j.views[v]!.tiers[b.inst])]);
  return `<div class="charts" id="area-chart">${chart}</div><p class="note">MoL = memory-on-logic, LoL = logic-on-logic; bot / top = bottom / top die. Each block is one segment of exactly one die per view.</p>` + table(["instance", "module", "kind", "cells", "cell area mm²", "macro area mm²", ...vs.filter((v) => v !== "2d").map((v) => `tier (${v})`)], rows);
}

function weights(j: ReportJson): string {
  const vs = viewsOf(j);
  const ws = (v: ViewId) => j.views[v]!.weightStore;
  const streamed = !j.model.weightsOnChip;
  const what = streamed ? "the two halves of the global weight buffer (hardware.weightsOnChip false: the pool's weights stream from off-chip)" : "the pool's weight banks, one per block (hardware.weightsOnChip true: every pool weight resident on chip)";
  const rows: Cell[][] = vs.map((v) => {
    const w = ws(v);
    return [
      v,
      w.placement === "buffer" ? "buffer halves" : "weight banks",
      w.instances.length,
      w.bits,
      Number((w.macroAreaUm2 / 1e6).toFixed(5)),
      Number((w.cellAreaUm2 / 1e6).toFixed(5)),
      Number((w.areaUm2 / 1e6).toFixed(5)),
      w.dies.map((d) => (w.dies.length > 1 ? `${d.die} (${d.instances})` : d.die)).join(", "),
      Number(mm2(j.views[v]!.footprintUm2).toFixed(5)),
      { text: `${(100 * w.footprintShare).toFixed(2)} %`, cls: "l" },
    ];
  });
  const inst: Cell[][] = ws("2d").instances.map((x) => [x.inst, x.module, `${x.depth} × ${x.width}`, x.bits, x.impl === "sram" ? "SRAM macro" : "flip-flops", ...vs.map((v) => ws(v).instances.find((y) => y.inst === x.inst)!.die)]);
  const o = j.model.offchip;
  const dram = (v: ViewId) => j.views[v]!.energy;
  const lo = j.constants.find((c) => c.name === "dram.energyPer64bitAccess");
  const hi = j.constants.find((c) => c.name === "dram.energyPer64bitAccessHigh");
  const traffic = o
    ? `<table id="offchip-traffic"><tr><th class="l">off-chip traffic per inference</th><th>value</th></tr>` +
      [
        ["bytes read", n(o.bytesRead, 0)],
        ["weight bytes in them (padding of the beats)", `${n(o.weightBytes, 0)} (${(100 * o.padding).toFixed(2)} %)`],
        ["bytes of every pool layer's weights (all experts)", n(o.modelWeightBytes, 0)],
        ["read / model weights", o.modelWeightBytes ? `${((100 * o.bytesRead) / o.modelWeightBytes).toFixed(1)} %` : "–"],
        ["AXI bursts, beats (W bits)", `${n(o.bursts, 0)}, ${n(o.beats, 0)} (${o.beatBits})`],
        ["cycles waiting for a weight", n(o.waitCycles, 0)],
        ["memory model", `latency ${o.memLatencyCycles} cycles, ${o.memBandwidthBytesPerCycle} bytes / cycle`],
        ["DRAM energy", `${n(dram(vs[0]).breakdownPj.dram / 1000, 3)} nJ (${n(o.bytesRead / 8, 0)} 64-bit accesses × ${lo ? n(lo.value / 1000, 2) : "–"} nJ; ${n(dram(vs[0]).dram.pjHigh / 1000, 3)} nJ at ${hi ? n(hi.value / 1000, 2) : "–"} nJ), the same in every view`],
      ]
        .map(([k, v]) => `<tr><td class="l">${esc(k)}</td><td>${esc(v)}</td></tr>`)
        .join("\n") +
      `</table>`
    : `<p class="note">No off-chip weight traffic: every pool weight is resident on chip (no DRAM term in the energy).</p>`;
  return (
    `<p class="note">On-chip weight storage: ${esc(what)}. Areas from the synthesized / macro areas of the instances (cells / utilization + macros, as in the floorplan); the share is of the view's footprint.</p>` +
    table(["view", "storage", "instances", "bits", "macro area mm²", "cell area mm²", "area mm²", "die", "footprint mm²", "share of footprint"], rows, { cls: "weight-store" }) +
    table(["instance", "module", "words × bits", "bits", "built of", ...vs.map((v) => `die (${v})`)], inst) +
    traffic
  );
}

function floorplans(j: ReportJson): string {
  const out: string[] = [];
  for (const v of viewsOf(j)) {
    const x = j.views[v]!;
    const svgs = x.dies.map((d) =>
      rectsSvg({
        title: v === "2d" ? "2d die" : `${v}: ${d.name} die`,
        dieW: d.widthUm,
        dieH: d.heightUm,
        rects: d.blocks.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, label: b.inst, group: b.kind === "memory" ? 1 : 0, data: { view: v, die: d.name, inst: b.inst } })),
        width: 420,
        cls: `die-${v}-${d.name}`,
        groups: ["logic", "memory"],
      }),
    );
    out.push(`<h3>${esc(v)}</h3><div class="charts">${svgs.join("\n")}</div><p class="note">footprint ${n(mm2(x.footprintUm2), 4)} mm²; ${x.dies.map((d) => `${d.name}: ${n(mm2(d.usedUm2), 4)} mm² used of ${n(mm2(d.widthUm * d.heightUm), 4)} mm²`).join("; ")}</p>`);
  }
  return out.join("\n");
}

function wirelength(j: ReportJson): string {
  const vs = viewsOf(j);
  const chart = barChart({
    title: "Wirelength per view",
    categories: vs,
    series: [
      { name: "inside blocks (Rent + Donath)", values: vs.map((v) => j.views[v]!.wirelength.intraUm / 1e6) },
      { name: "between blocks (floorplan)", values: vs.map((v) => j.views[v]!.wirelength.interUm / 1e6) },
    ],
    unit: "m",
    stacked: true,
    width: 560,
  });
  const rows: Cell[][] = vs.flatMap((v) => j.views[v]!.wirelength.dies.map((d) => [v, d.die, Number((d.intraUm / 1e6).toFixed(4)), Number((d.interUm / 1e6).toFixed(4)), Number((d.totalUm / 1e6).toFixed(4))] as Cell[]));
  return `<div class="charts">${chart}</div>` + table(["view", "die", "inside blocks m", "between blocks m", "total m"], rows) + `<p class="note">Blocks are assigned to tiers whole, so the wire inside a block is the same in every view; 3D changes the wires between blocks (a stacked bus is one bond plus the lateral offset of the two centres).</p>`;
}

function latency(j: ReportJson): string {
  const vs = viewsOf(j);
  const paths = j.views["2d"]!.memLatency.paths;
  if (!paths.length) return `<p class="note">No SRAM macro buffer in this design (every memory is below hardware.macroMinBits and built of flip-flops): no memory-access path to report.</p>`;
  const cats = paths.map((p) => `${p.memory}→${p.consumer}`);
  const chart = barChart({
    title: "Memory-access latency per buffer → consumer path",
    categories: cats,
    series: vs.map((v) => ({ name: v, values: paths.map((p) => j.views[v]!.memLatency.paths.find((q) => q.memory === p.memory && q.consumer === p.consumer)?.totalPs ?? 0) })),
    unit: "ps",
    width: Math.max(560, 60 + cats.length * 18 * vs.length),
    height: 340,
  });
  const rows: Cell[][] = paths.map((p) => [
    `${p.memory} → ${p.consumer}`,
    p.macro,
    Number(p.clkToQPs.toFixed(1)),
    ...vs.flatMap((v) => {
      const q = j.views[v]!.memLatency.paths.find((x) => x.memory === p.memory && x.consumer === p.consumer)!;
      return [Number(q.lengthUm.toFixed(1)), Number(q.totalPs.toFixed(1)), Number(q.cycles.toFixed(3))] as Cell[];
    }),
  ]);
  const mean: Cell[][] = vs.map((v) => [v, j.views[v]!.memLatency.meanPs ?? "–", j.views[v]!.memLatency.meanCycles ?? "–", v === "2d" ? "" : { text: pct(j.comparison[v as Exclude<ViewId, "2d">]?.memLatency) }, v === "2d" ? "" : { text: pct(j.comparison[v as Exclude<ViewId, "2d">]?.memLatencyPerPath) }]);
  return (
    `<div class="charts" id="latency-chart">${chart}</div>` +
    table(["view", "mean ps", "mean cycles", "vs 2d (of the means)", "vs 2d (mean per path)"], mean) +
    table(["path", "macro", "clock-to-Q ps", ...vs.flatMap((v) => [`${v} µm`, `${v} ps`, `${v} cycles`])], rows) +
    `<p class="note">latency = SRAM clock-to-Q + ${n(j.wireDelay.psPerMm, 1)} ps/mm × distance (optimally repeated wire) + ${n(j.wireDelay.bondPs, 2)} ps per bond; cycles at the ${n(j.clock.targetMHz, 1)} MHz target.</p>`
  );
}

function timing(j: ReportJson): string {
  const vs = viewsOf(j);
  const chart = barChart({ title: "fmax and f_eff", categories: vs, series: [{ name: "fmax", values: vs.map((v) => j.views[v]!.fmaxMHz) }, { name: "f_eff", values: vs.map((v) => j.views[v]!.feffMHz) }], unit: "MHz", width: 560 });
  const rows: Cell[][] = vs.map((v) => {
    const t = j.views[v]!.timing;
    return [v, t.worstSlackNs, t.wnsNs, t.tnsNs, j.views[v]!.fmaxMHz, j.views[v]!.feffMHz, t.critical ? `${t.critical.startpoint} → ${t.critical.endpoint}` : "–", t.critical ? t.critical.blocks.map((b) => `${b.block} ${b.delayNs.toFixed(2)}`).join(" > ") : "–"];
  });
  return `<div class="charts">${chart}</div>` + table(["view", "worst slack ns", "WNS ns", "TNS ns", "fmax MHz", "f_eff MHz", "critical path", "blocks crossed (ns)"], rows) + `<p class="note">OpenSTA ${esc(j.tools.sta ?? "")} on each view's flat mapped netlist with the floorplan's inter-instance wires (SPEF); clock target ${n(j.clock.targetMHz, 1)} MHz (${esc(j.clock.source)}). f_eff = 1/(T − WNS) equals the target whenever it is met.</p>`;
}

function energy(j: ReportJson): string {
  const vs = viewsOf(j);
  // the off-chip DRAM term only when the weights are streamed (some view read bytes from off-chip)
  const dram = vs.some((v) => (j.views[v]!.energy.breakdownPj.dram ?? 0) > 0);
  const parts = (dram ? ["sram", "logic", "wiresBetween", "wiresInside", "leakage", "dram"] : ["sram", "logic", "wiresBetween", "wiresInside", "leakage"]) as readonly ("sram" | "logic" | "wiresBetween" | "wiresInside" | "leakage" | "dram")[];
  const chart = barChart({ title: "Energy per inference", categories: vs, series: parts.map((k) => ({ name: k, values: vs.map((v) => j.views[v]!.energy.breakdownPj[k] / 1000) })), unit: "nJ", stacked: true, width: 560 });
  const rows: Cell[][] = vs.map((v) => {
    const e = j.views[v]!.energy;
    return [v, ...parts.map((k) => Number((e.breakdownPj[k] / 1000).toFixed(4))), j.views[v]!.energyPerInferenceNj, j.views[v]!.powerMw, j.views[v]!.pjPerSop ?? "–"];
  });
  return `<div class="charts" id="energy-chart">${chart}</div>` + table(["view", "SRAM nJ", "logic nJ", "wires between blocks nJ", "wires inside blocks nJ", "leakage nJ", ...(dram ? [`off-chip DRAM nJ (${n(j.views[vs[0]]!.energy.dram.bytes, 0)} bytes x 1.3 nJ / 8 B; up to ${n(j.views[vs[0]]!.energy.dram.pjHigh / 1000, 3)} nJ at 2.6 nJ, Horowitz ISSCC 2014)`] : []), "total nJ", "power mW", "pJ / synaptic op"], rows) + `<p class="note">Activity of one ${esc(j.model.simulator)} run of ${esc(j.model.source)}: ${n(j.model.cycles, 0)} busy cycles, ${n(j.model.synapticOps, 0)} synaptic ops, ${n(j.model.spikes, 0)} spikes; output ${j.model.matchesGolden ? "identical to" : "DIFFERENT from"} the golden model. Same activity for every view (the 3D assemblies are cycle-equivalent to the 2D top); each view's wire capacitances and f_eff.</p>`;
}

function bonds(j: ReportJson): string {
  const vs = viewsOf(j).filter((v) => v !== "2d");
  const chart = barChart({ title: "Bonds against the bond budget", categories: vs, series: [{ name: "bonds", values: vs.map((v) => j.views[v]!.bonds) }, { name: "budget", values: vs.map((v) => j.views[v]!.bondBudget) }], width: 560 });
  const rows: Cell[][] = vs.map((v) => [v, j.views[v]!.bonds, j.views[v]!.bondBudget, j.views[v]!.bondBudget ? Number(((100 * j.views[v]!.bonds) / j.views[v]!.bondBudget).toFixed(2)) : "–"]);
  return `<div class="charts">${chart}</div>` + table(["view", "bonds (bond map)", "budget ⌊footprint × usable / pitch²⌋", "used %"], rows);
}

function rent(j: ReportJson): string {
  const rows: Cell[][] = j.rent.map((r) => [r.module, r.cells, r.nets, r.p ?? "too small", r.t ?? "–", r.fitLevels.length]);
  const big = [...j.rent].filter((r) => r.p !== null).sort((a, b) => b.cells - a.cells).slice(0, 4);
  const pts = big.flatMap((r, gi) => r.levels.filter((l) => l.meanGates >= 1 && l.meanTerminals > 0).map((l) => ({ x: l.meanGates, y: l.meanTerminals, label: `${r.module} G=${l.meanGates}`, group: gi })));
  const plot = pts.length ? scatter({ title: "Rent's rule: terminals vs gates per bisection level", xLabel: "gates per block", yLabel: "terminals per block", points: pts, groups: big.map((r) => r.module), logX: true, logY: true, width: 640, height: 380 }) : "";
  return `<div class="charts">${plot}</div>` + table(["module", "cells", "nets", "Rent p", "Rent t", "levels fitted"], rows) + `<p class="note">Recursive min-cut bisection of each mapped module (Fiduccia–Mattheyses, 45–55 % balance); p, t = least-squares line through the levels with ${j.constants.find((c) => c.name === "rentFitMinGates")?.value} ≤ G ≤ G_module/8. Modules too small for a fit use the cell-weighted mean p.</p>`;
}

function constants(j: ReportJson): string {
  return table(
    ["name", "value", "unit", "source"],
    j.constants.map((c) => [c.name, c.value, c.unit, c.source]),
  );
}

export function reportPage(j: ReportJson): string {
  const footer = [`command: ${j.command || "(library call)"}`, `config hash ${j.hash}; ${j.generator}`, ...Object.entries(j.tools).map(([k, v]) => `${k}: ${v}`)].join("\n");
  return page({
    title: `st3d report: ${j.design} — what does 3D buy?`,
    subtitle: `${j.library.name} (${j.library.nodeNm} nm, ${j.library.voltageV} V), clock target ${j.clock.targetMHz} MHz, config hash ${j.hash}`,
    sections: [
      { id: "summary", title: "The four views side by side", html: summary(j) },
      { id: "paper", title: "st3d beside the paper's published ranges", html: published(j) },
      { id: "area", title: "Area by block and tier", html: areaByDie(j) },
      { id: "weights", title: "On-chip weight storage against the footprint, off-chip traffic", html: weights(j) },
      { id: "floorplans", title: "Floorplans of every die", html: floorplans(j) },
      { id: "wirelength", title: "Wirelength", html: wirelength(j) },
      { id: "latency", title: "Memory-access latency", html: latency(j) },
      { id: "timing", title: "Frequency", html: timing(j) },
      { id: "energy", title: "Energy and power", html: energy(j) },
      { id: "bonds", title: "Bonds and the bond budget", html: bonds(j) },
      { id: "rent", title: "Rent exponents (measured on the mapped netlists)", html: rent(j) },
      { id: "constants", title: "Every constant, with its source", html: constants(j) },
    ],
    footer,
  });
}
