/**
 * Self-contained HTML pages (the 2D-vs-3D report, the sweep page): one file, inline CSS and
 * SVG, no script required, no network, deterministic.  Open it from disk in any browser.
 */

/** Escape text for HTML content and attribute values. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

export interface Section {
  /** anchor id (letters, digits, '-') */
  id: string;
  title: string;
  /** HTML body of the section (already escaped / built from the helpers) */
  html: string;
}

export interface PageOptions {
  title: string;
  /** a line under the title (e.g. the design and config hash) */
  subtitle?: string;
  sections: Section[];
  /** small print at the end (command, tool versions) */
  footer?: string;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fff}
header{padding:18px 28px;border-bottom:1px solid #ddd;background:#f6f8fa}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#555}
nav{padding:8px 28px;border-bottom:1px solid #eee;font-size:13px}nav a{margin-right:14px;color:#0366d6;text-decoration:none}
main{padding:8px 28px 40px;max-width:1400px}
section{margin-top:22px}section h2{font-size:18px;border-bottom:1px solid #eee;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f6f8fa}td.l,th.l{text-align:left}tr.hl td{background:#fff5e6}
.charts{display:flex;flex-wrap:wrap;gap:14px;align-items:flex-start}
.chart{background:#fff;border:1px solid #eee}
.chart-title{font-size:13px;font-weight:600}.tick{font-size:10px;fill:#444}.axis{font-size:11px;fill:#333}
.legend{font-size:11px}.block-label{font-size:9px;fill:#222}
.note{color:#555;font-size:13px}.good{color:#1a7f37}.bad{color:#cf222e}
footer{padding:12px 28px;border-top:1px solid #ddd;color:#666;font-size:12px;white-space:pre-wrap}
code{background:#f3f3f3;padding:0 3px;border-radius:3px}
`;

export function page(o: PageOptions): string {
  const nav = o.sections.map((s) => `<a href="#${esc(s.id)}">${esc(s.title)}</a>`).join("");
  const body = o.sections.map((s) => `<section id="${esc(s.id)}">\n<h2>${esc(s.title)}</h2>\n${s.html}\n</section>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${esc(o.title)}</h1>${o.subtitle ? `<p>${esc(o.subtitle)}</p>` : ""}</header>
<nav>${nav}</nav>
<main>
${body}
</main>
${o.footer ? `<footer>${esc(o.footer)}</footer>` : ""}
</body>
</html>
`;
}

export type Cell = string | number | { html: string } | { text: string | number; cls?: string };

/** A table; numbers are right-aligned, strings left-aligned; `{html}` cells are inserted raw. */
export function table(headers: string[], rows: Cell[][], opts: { highlight?: (rowIndex: number) => boolean; cls?: string } = {}): string {
  const cell = (c: Cell, tag: "td" | "th") => {
    if (typeof c === "number") return `<${tag}>${esc(fmtCell(c))}</${tag}>`;
    if (typeof c === "string") return `<${tag} class="l">${esc(c)}</${tag}>`;
    if ("html" in c) return `<${tag} class="l">${c.html}</${tag}>`;
    return `<${tag} class="${typeof c.text === "number" ? "" : "l"}${c.cls ? " " + esc(c.cls) : ""}">${esc(typeof c.text === "number" ? fmtCell(c.text) : c.text)}</${tag}>`;
  };
  const head = `<tr>${headers.map((h, i) => (i === 0 ? `<th class="l">${esc(h)}</th>` : `<th>${esc(h)}</th>`)).join("")}</tr>`;
  const body = rows.map((r, i) => `<tr${opts.highlight?.(i) ? ' class="hl"' : ""}>${r.map((c) => cell(c, "td")).join("")}</tr>`).join("\n");
  return `<table${opts.cls ? ` class="${esc(opts.cls)}"` : ""}>\n${head}\n${body}\n</table>`;
}

function fmtCell(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  const a = Math.abs(v);
  if (a >= 100) return v.toLocaleString("en-US", { maximumFractionDigits: 1 });
  if (a >= 1) return v.toLocaleString("en-US", { maximumFractionDigits: 3 });
  return v.toPrecision(3);
}
