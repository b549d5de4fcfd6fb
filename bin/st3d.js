#!/usr/bin/env node
// st3d command-line entry.  Fast start: the CLI bundled into one ES module (generator/launch),
// found in the st3d cache under a hash of every source file; when there is none yet (first
// run after a change, or ST3D_NO_BUNDLE=1), the TypeScript is loaded through tsx and the
// bundle is built for the next start.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { entryDir, readEntry } from "../generator/cache/entry.mjs";
import { BUNDLE_FILE, BUNDLE_KIND, bundleKey } from "../generator/launch/source.mjs";

let bundle = null;
if (!process.env.ST3D_NO_BUNDLE) {
  const key = bundleKey();
  const dir = entryDir(BUNDLE_KIND, key);
  if (readEntry(dir, key).ok) bundle = path.join(dir, BUNDLE_FILE);
}
if (bundle) {
  const { main } = await import(pathToFileURL(bundle).href);
  await main(process.argv);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  if (!process.env.ST3D_NO_BUNDLE) {
    try {
      const { buildBundle } = await import("../generator/launch/bundle.ts");
      await buildBundle();
    } catch {
      // no bundle: st3d still runs, only its start is slower
    }
  }
  const { main } = await import("../generator/cli.ts");
  await main(process.argv);
}
