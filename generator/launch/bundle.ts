/**
 * The command-line bundle: generator/cli.ts and everything it imports, bundled by esbuild
 * into one ES module kept in the st3d cache (kind "cli-bundle", key bundleKey()), so that
 * `st3d` starts without a TypeScript loader (bin/st3d.js; docs/BENCH.md "Start-up").
 * Templates and packages stay where they are: every `import.meta.url` of a source file is
 * replaced by that file's own URL, and every package import by its resolved absolute path.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { cachedSync } from "../cache/cache.ts";
import { BUNDLE_FILE, BUNDLE_KIND, REPO, bundleKey } from "./source.mjs";

/** Plugins: per-file import.meta.url, packages resolved to absolute paths (the bundle lives in the cache). */
function plugins(): Plugin[] {
  return [
    {
      name: "st3d-sources",
      setup(b) {
        b.onLoad({ filter: /\.ts$/ }, (args) => ({
          contents: fs.readFileSync(args.path, "utf8").replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
          loader: "ts",
        }));
        b.onResolve({ filter: /^[^./]/ }, async (args) => {
          if (args.path.startsWith("node:") || args.pluginData?.st3d) return undefined;
          const res = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { st3d: true } });
          // not installed (an optional dependency): leave the import as it is, it fails where it would have
          if (res.errors.length || !res.path) return { path: args.path, external: true };
          return { path: res.path, external: true };
        });
      },
    },
  ];
}

/** Build (or find) the bundle; returns its file. */
export async function buildBundle(): Promise<string> {
  const key = bundleKey();
  const tmp = path.join(REPO, "build", "launch");
  fs.mkdirSync(tmp, { recursive: true });
  const out = path.join(tmp, `${BUNDLE_FILE}.${process.pid}.mjs`);
  // esbuild's plugin API is async: build into a private file first, then publish it through the cache
  await build({
    entryPoints: [path.join(REPO, "generator", "cli.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: out,
    logLevel: "silent",
    plugins: plugins(),
  });
  try {
    const hit = cachedSync(BUNDLE_KIND, key, (dir) => {
      fs.copyFileSync(out, path.join(dir, BUNDLE_FILE));
      return { key };
    });
    return path.join(hit.dir, BUNDLE_FILE);
  } finally {
    fs.rmSync(out, { force: true });
  }
}
