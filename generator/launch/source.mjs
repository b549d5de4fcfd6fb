// Which sources the command-line bundle is built from, and its cache key (plain JavaScript: the
// launcher bin/st3d.js computes the key before any TypeScript can be loaded).  The key covers
// every source file of the generator, package.json, the esbuild and Node versions and the
// installation's path (the bundle refers to templates and node_modules by absolute path).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cacheKey } from "../cache/entry.mjs";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BUNDLE_KIND = "cli-bundle";
export const BUNDLE_FILE = "st3d.mjs";

function sources(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(ts|mjs)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The bundle's cache key (a hash of every input it is built from). */
export function bundleKey() {
  const files = sources(path.join(REPO, "generator"), []).sort();
  const parts = [REPO, process.version, fs.readFileSync(path.join(REPO, "package.json"), "utf8")];
  try {
    parts.push(fs.readFileSync(path.join(REPO, "node_modules", "esbuild", "package.json"), "utf8"));
  } catch {
    parts.push("no esbuild");
  }
  for (const f of files) parts.push(path.relative(REPO, f), fs.readFileSync(f));
  return cacheKey(...parts);
}
