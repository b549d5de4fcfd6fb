/**
 * Inline SVG charts for st3d's self-contained HTML pages (report, sweep).  Pure functions:
 * data in, SVG text out, deterministic (same data → same bytes), no script, no network.
 * Every mark carries a class and data-* attributes so that tests (headless Chromium) can
 * count and inspect them: bars are `rect.bar[data-series][data-category]`, scatter points
 * `circle.point[data-label]` (plus `.front` when highlighted), floorplan blocks `rect.block`.
 */
import { esc } from "./html.ts";

/** A qualitative palette (Okabe–Ito, colour-blind safe). */
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];

const fmt = (v: number) => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return Number(v.toPrecision(4)).toLocaleString("en-US");
};
export const fmtNum = fmt;
const r2 = (v: number) => Math.round(v * 100) / 100;

/** Round tick values covering [lo, hi] (about n ticks). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  // ticks cover [lo, hi]: from the last multiple of step <= lo to the first >= hi
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  for (let i = first; i <= last; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

export interface BarSeries {
  name: string;
  values: number[];
}

export interface BarChartOptions {
  title: string;
  categories: string[];
  series: BarSeries[];
  unit?: string;
  /** stacked bars (a breakdown) instead of grouped bars */
  stacked?: boolean;
  width?: number;
  height?: number;
  /** optional reference band [lo, hi] drawn behind the bars, e.g. a published range */
  band?: { lo: number; hi: number; label: string };
}

/** Grouped or stacked vertical bar chart. */
export function barChart(o: BarChartOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 300;
  const m = { l: 64, r: 12, t: 28, b: 64 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const nC = o.categories.length;
  const nS = o.series.length;
  const totals = o.categories.map((_, c) => (o.stacked ? o.series.reduce((s, se) => s + Math.max(0, se.values[c] ?? 0), 0) : Math.max(0, ...o.series.map((se) => se.values[c] ?? 0))));
  const mins = o.categories.map((_, c) => Math.min(0, ...o.series.map((se) => se.values[c] ?? 0)));
  let hi = Math.max(0, ...totals, o.band?.hi ?? 0);
  let lo = Math.min(0, ...mins, o.band?.lo ?? 0);
  if (hi === lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi);
  hi = Math.max(hi, ticks[ticks.length - 1]);
  lo = Math.min(lo, ticks[0]);
  const y = (v: number) => m.t + ph - ((v - lo) / (hi - lo)) * ph;
  const out: string[] = [];
  // a legend too long for one row wraps onto more rows below the chart (the chart grows)
  const extra = (legendRows(o.series.map((s) => s.name), m.l, W) - 1) * 14;
  out.push(`<svg class="chart bar-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + extra}" width="${W}" height="${H + extra}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="chart-title">${esc(o.title)}</text>`);
  if (o.band) {
    const y1 = y(Math.max(o.band.lo, o.band.hi));
    const y2 = y(Math.min(o.band.lo, o.band.hi));
    out.push(`<rect class="band" x="${m.l}" y="${r2(y1)}" width="${pw}" height="${r2(Math.max(1, y2 - y1))}" fill="#999" fill-opacity="0.18"><title>${esc(o.band.label)}</title></rect>`);
  }
  for (const t of ticks) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${r2(y(t))}" y2="${r2(y(t))}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${r2(y(t) + 4)}" text-anchor="end" class="tick">${esc(fmt(t))}</text>`);
  }
  const gw = pw / Math.max(1, nC);
  const bw = o.stacked ? gw * 0.6 : (gw * 0.8) / Math.max(1, nS);
  for (let c = 0; c < nC; c++) {
    let acc = 0;
    for (let s = 0; s < nS; s++) {
      const v = o.series[s].values[c] ?? 0;
      const x = o.stacked ? m.l + c * gw + gw * 0.2 : m.l + c * gw + gw * 0.1 + s * bw;
      const base = o.stacked ? acc : 0;
      const top = base + v;
      if (o.stacked) acc = top;
      const ya = y(Math.max(base, top));
      const yb = y(Math.min(base, top));
      out.push(
        `<rect class="bar" data-series="${esc(o.series[s].name)}" data-category="${esc(o.categories[c])}" data-value="${v}" x="${r2(x)}" y="${r2(ya)}" width="${r2(Math.max(0.5, bw - 1))}" height="${r2(Math.max(0, yb - ya))}" fill="${PALETTE[s % PALETTE.length]}"><title>${esc(`${o.categories[c]} · ${o.series[s].name}: ${fmt(v)}${o.unit ? " " + o.unit : ""}`)}</title></rect>`,
      );
    }
    const lx = m.l + c * gw + gw / 2;
    out.push(`<text x="${r2(lx)}" y="${m.t + ph + 14}" text-anchor="end" transform="rotate(-30 ${r2(lx)} ${m.t + ph + 14})" class="tick">${esc(o.categories[c])}</text>`);
  }
  if (o.unit) out.push(`<text x="14" y="${m.t + ph / 2}" transform="rotate(-90 14 ${m.t + ph / 2})" text-anchor="middle" class="axis">${esc(o.unit)}</text>`);
  out.push(legend(o.series.map((s) => s.name), m.l, H - 10, W));
  out.push("</svg>");
  return out.join("\n");
}

const legendWidth = (n: string) => 24 + 7 * n.length;

/** Rows a legend needs when it wraps at maxX (1 when it fits, or when no wrapping is asked). */
function legendRows(names: string[], x0: number, maxX?: number): number {
  if (names.length < 2 || maxX === undefined) return 1;
  let rows = 1;
  let x = x0;
  for (const n of names) {
    if (x > x0 && x + legendWidth(n) > maxX) {
      rows++;
      x = x0;
    }
    x += legendWidth(n);
  }
  return rows;
}

function legend(names: string[], x0: number, yy: number, maxX?: number): string {
  if (names.length < 2) return "";
  const parts: string[] = [];
  let x = x0;
  let y = yy;
  names.forEach((n, i) => {
    if (maxX !== undefined && x > x0 && x + legendWidth(n) > maxX) {
      x = x0;
      y += 14;
    }
    parts.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 14}" y="${y}" class="legend">${esc(n)}</text>`);
    x += legendWidth(n);
  });
  return `<g class="legend">${parts.join("")}</g>`;
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  /** link target (e.g. the point's report) */
  href?: string;
  /** drawn highlighted (e.g. on the Pareto front) */
  front?: boolean;
  /** series index for the colour (e.g. integration mode) */
  group?: number;
}

export interface ScatterOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  points: ScatterPoint[];
  /** names of the colour groups, for the legend */
  groups?: string[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** connect the front points (sorted by x) with a line */
  frontLine?: boolean;
}

/** Scatter plot; front points are larger and outlined; points with href are links. */
export function scatter(o: ScatterOptions): string {
  const W = o.width ?? 520;
  const H = o.height ?? 360;
  const m = { l: 70, r: 16, t: 28, b: 58 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const tx = (v: number) => (o.logX ? Math.log10(Math.max(v, 1e-300)) : v);
  const ty = (v: number) => (o.logY ? Math.log10(Math.max(v, 1e-300)) : v);
  const pts = o.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xs = pts.map((p) => tx(p.x));
  const ys = pts.map((p) => ty(p.y));
  const pad = (lo: number, hi: number) => (hi > lo ? [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)] : [lo - 1, hi + 1]);
  const [x0, x1] = pad(Math.min(...xs, Infinity) === Infinity ? 0 : Math.min(...xs), Math.max(...xs, -Infinity) === -Infinity ? 1 : Math.max(...xs));
  const [y0, y1] = pad(Math.min(...ys, Infinity) === Infinity ? 0 : Math.min(...ys), Math.max(...ys, -Infinity) === -Infinity ? 1 : Math.max(...ys));
  const X = (v: number) => m.l + ((tx(v) - x0) / (x1 - x0)) * pw;
  const Y = (v: number) => m.t + ph - ((ty(v) - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg class="chart scatter" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="chart-title">${esc(o.title)}</text>`);
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
  const axisTicks = (lo: number, hi: number, log?: boolean) =>
    niceTicks(lo, hi, log ? 4 : 5)
      .filter((t) => t >= lo && t <= hi)
      .map((t) => ({ pos: t, label: fmt(log ? 10 ** t : t) }));
  for (const t of axisTicks(x0, x1, o.logX)) {
    const px = m.l + ((t.pos - x0) / (x1 - x0)) * pw;
    out.push(`<line x1="${r2(px)}" x2="${r2(px)}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#666"/><text x="${r2(px)}" y="${m.t + ph + 16}" text-anchor="middle" class="tick">${esc(t.label)}</text>`);
  }
  for (const t of axisTicks(y0, y1, o.logY)) {
    const py = m.t + ph - ((t.pos - y0) / (y1 - y0)) * ph;
    out.push(`<line x1="${m.l - 4}" x2="${m.l}" y1="${r2(py)}" y2="${r2(py)}" stroke="#666"/><text x="${m.l - 6}" y="${r2(py + 4)}" text-anchor="end" class="tick">${esc(t.label)}</text>`);
  }
  out.push(`<text x="${m.l + pw / 2}" y="${H - 22}" text-anchor="middle" class="axis">${esc(o.xLabel)}</text>`);
  out.push(`<text x="14" y="${m.t + ph / 2}" transform="rotate(-90 14 ${m.t + ph / 2})" text-anchor="middle" class="axis">${esc(o.yLabel)}</text>`);
  if (o.frontLine) {
    const f = pts.filter((p) => p.front).sort((a, b) => a.x - b.x || a.y - b.y);
    if (f.length > 1) out.push(`<polyline class="front-line" fill="none" stroke="#D55E00" stroke-dasharray="4 3" points="${f.map((p) => `${r2(X(p.x))},${r2(Y(p.y))}`).join(" ")}"/>`);
  }
  for (const p of pts) {
    const colour = PALETTE[(p.group ?? 0) % PALETTE.length];
    const c = `<circle class="point${p.front ? " front" : ""}" data-label="${esc(p.label)}" cx="${r2(X(p.x))}" cy="${r2(Y(p.y))}" r="${p.front ? 6 : 4}" fill="${colour}" fill-opacity="${p.front ? 1 : 0.6}"${p.front ? ' stroke="#000" stroke-width="1.5"' : ""}><title>${esc(`${p.label}: ${o.xLabel} ${fmt(p.x)}, ${o.yLabel} ${fmt(p.y)}`)}</title></circle>`;
    out.push(p.href ? `<a href="${esc(p.href)}">${c}</a>` : c);
  }
  if (o.groups) out.push(legend(o.groups, m.l, H - 6));
  out.push("</svg>");
  return out.join("\n");
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
  /** colour group (e.g. block kind) */
  group?: number;
  /** extra data attributes */
  data?: Record<string, string | number>;
}

/** Rectangles in a die outline (a floorplan), coordinates in µm; y grows upwards like a layout. */
export function rectsSvg(o: { title: string; dieW: number; dieH: number; rects: Rect[]; width?: number; cls?: string; groups?: string[] }): string {
  const W = o.width ?? 360;
  const scale = (W - 20) / Math.max(o.dieW, 1e-9);
  const H = Math.round(o.dieH * scale + 50);
  const ox = 10;
  const oy = 28;
  const X = (v: number) => r2(ox + v * scale);
  const Y = (v: number) => r2(oy + (o.dieH - v) * scale);
  const out: string[] = [];
  out.push(`<svg class="chart floorplan${o.cls ? " " + esc(o.cls) : ""}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H + (o.groups ? 16 : 0)}" width="${W}" height="${H + (o.groups ? 16 : 0)}" role="img" aria-label="${esc(o.title)}">`);
  out.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="chart-title">${esc(o.title)}</text>`);
  out.push(`<rect class="die" x="${X(0)}" y="${Y(o.dieH)}" width="${r2(o.dieW * scale)}" height="${r2(o.dieH * scale)}" fill="#fafafa" stroke="#333"/>`);
  for (const r of o.rects) {
    const data = Object.entries(r.data ?? {})
      .map(([k, v]) => ` data-${esc(k)}="${esc(String(v))}"`)
      .join("");
    const w = r.w * scale;
    const h = r.h * scale;
    out.push(
      `<rect class="block" data-label="${esc(r.label)}"${data} x="${X(r.x)}" y="${Y(r.y + r.h)}" width="${r2(w)}" height="${r2(h)}" fill="${PALETTE[(r.group ?? 0) % PALETTE.length]}" fill-opacity="0.35" stroke="${PALETTE[(r.group ?? 0) % PALETTE.length]}"><title>${esc(`${r.label}: ${fmt(r.w)} × ${fmt(r.h)} µm`)}</title></rect>`,
    );
    if (w > 40 && h > 12) out.push(`<text x="${r2(ox + (r.x + r.w / 2) * scale)}" y="${r2(oy + (o.dieH - r.y - r.h / 2) * scale + 4)}" text-anchor="middle" class="block-label">${esc(r.label.length * 6 > w ? r.label.slice(0, Math.max(1, Math.floor(w / 6) - 1)) + "…" : r.label)}</text>`);
  }
  out.push(`<text x="${W / 2}" y="${H - 6}" text-anchor="middle" class="tick">${esc(`${fmt(o.dieW)} µm × ${fmt(o.dieH)} µm`)}</text>`);
  if (o.groups) out.push(legend(o.groups, 10, H + 10));
  out.push("</svg>");
  return out.join("\n");
}
