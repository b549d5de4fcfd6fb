/**
 * Screenshot of an st3d HTML page (sweep.html, report.html) for docs/, taken in headless
 * Chromium by generator/html/browser.ts, which also checks the page: no console or page error,
 * no request outside the file.  `npx tsx scripts/screenshot.ts PAGE.html OUT.png [width]`
 */
import { checkPage } from "../generator/html/browser.ts";

async function main() {
  const [page, png, width] = process.argv.slice(2);
  if (!page || !png) {
    console.error("usage: npx tsx scripts/screenshot.ts PAGE.html OUT.png [width]");
    process.exit(2);
  }
  const r = await checkPage(page, ["svg", "circle.point", "circle.point.front", "table"], { screenshot: png, width: width ? Number(width) : 1300 });
  console.log(`${page}: title '${r.title}', ${JSON.stringify(r.counts)}, ${r.errors.length} error(s), ${r.external.length} external request(s) -> ${png}`);
  if (r.errors.length || r.external.length) {
    console.error([...r.errors, ...r.external].join("\n"));
    process.exit(1);
  }
}
void main();
