import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The tsconfig's `@/` path, so modules shared with the Next.js app resolve the same way here.
  resolve: { alias: [{ find: /^@\//, replacement: fileURLToPath(new URL("./", import.meta.url)) }] },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Redis-backed suites each use their own key prefix, so files may run in parallel.
    fileParallelism: true,
  },
});
