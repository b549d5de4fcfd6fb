import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["generator/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
