import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Redis-backed suites each use their own key prefix, so files may run in parallel.
    fileParallelism: true,
  },
});
