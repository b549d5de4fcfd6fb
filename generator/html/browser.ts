/**
 * Open an st3d HTML page in headless Chromium (Debian `chromium`, installed by
 * scripts/setup.sh) through playwright-core, for tests and for the screenshots in docs/:
 * console errors and page errors are collected, marks can be counted by CSS selector.
 * Never downloads a browser: it uses the system Chromium (ST3D_CHROMIUM overrides the path).
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

export const CHROMIUM = process.env.ST3D_CHROMIUM ?? "/usr/bin/chromium";

export interface PageCheck {
  /** console messages of type error, and uncaught page errors */
  errors: string[];
  /** requests the page tried to make to anything but its own file (a self-contained page makes none) */
  external: string[];
  /** number of elements matching each selector asked for */
  counts: Record<string, number>;
  title: string;
}

export function chromiumAvailable(): boolean {
  return fs.existsSync(CHROMIUM);
}

/**
 * Load `file`, count `selectors`, optionally save a full-page screenshot (PNG) to `screenshot`.
 */
export async function checkPage(file: string, selectors: string[], opts: { screenshot?: string; width?: number } = {}): Promise<PageCheck> {
  if (!chromiumAvailable()) throw new Error(`headless Chromium not found at ${CHROMIUM}: install Debian's chromium (scripts/setup.sh does) or set ST3D_CHROMIUM`);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const pg = await browser.newPage({ viewport: { width: opts.width ?? 1400, height: 900 } });
    const errors: string[] = [];
    const external: string[] = [];
    const url = pathToFileURL(path.resolve(file)).href;
    pg.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    pg.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    pg.on("request", (r) => {
      if (r.url() !== url && !r.url().startsWith("data:")) external.push(r.url());
    });
    await pg.goto(url, { waitUntil: "load" });
    const counts: Record<string, number> = {};
    for (const s of selectors) counts[s] = await pg.locator(s).count();
    if (opts.screenshot) {
      fs.mkdirSync(path.dirname(path.resolve(opts.screenshot)), { recursive: true });
      await pg.screenshot({ path: opts.screenshot, fullPage: true });
    }
    return { errors, external, counts, title: await pg.title() };
  } finally {
    await browser.close();
  }
}
