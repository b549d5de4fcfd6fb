/** Shared helpers of the golden-model tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll } from "vitest";
import { resolveInput, type Resolved } from "../../generator/config/resolve.ts";
import type { UserConfigInput } from "../../generator/config/schema.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
export const VECTORS = path.resolve(here, "../fixtures/vectors");

/**
 * Resolve a config that has only `name` and `model` (like the reference vectors).
 * The golden model does not depend on the hardware section, but resolve() refuses the
 * hardware defaults (tokenGroup 8) for very small models, so it is clamped to what the model
 * allows.
 */
export function resolveModelOnly(cfg: UserConfigInput): Resolved {
  const m = cfg.model ?? {};
  const TN = (m.timesteps ?? 4) * (m.tokens ?? 64);
  return resolveInput({
    ...cfg,
    hardware: {
      tokenGroup: Math.min(8, TN),
      ...(cfg.hardware ?? {}),
    },
  });
}

const made: string[] = [];
/** A fresh temporary folder, removed after the test file finishes. */
export function tmpDir(prefix = "st3d-golden-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
