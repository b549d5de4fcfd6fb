/** Paths of the st3d installation (not of a user's output folder). */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository (installation) root: package.json, presets/, generator/, docs/. */
export const REPO_ROOT = path.resolve(here, "../..");

/** st3d's version, from package.json (printed in every generated file's header). */
export const ST3D_VERSION: string = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version;

/** Path of a file of the installation, relative to REPO_ROOT (as generated headers print it). */
export function repoRelative(abs: string): string {
  return path.relative(REPO_ROOT, abs).split(path.sep).join("/");
}
