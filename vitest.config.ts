import path from "node:path";
import { defineConfig } from "vitest/config";

// tests use their own cache (warm across runs, never the user's ~/.cache/st3d); a test that
// needs a cold cache sets a temporary ST3D_CACHE itself
const cache = process.env.ST3D_TEST_CACHE ?? path.resolve("build/test-cache");

export default defineConfig({
  test: {
    include: ["generator/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    env: { ST3D_CACHE: cache },
  },
});
