import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // The tsconfig's paths (`@/`, and `pipewatch` → the library's source entry), so modules resolve the same way here.
  resolve: {
    alias: [
      { find: /^@\//, replacement: fileURLToPath(new URL("./", import.meta.url)) },
      { find: /^pipewatch$/, replacement: fileURLToPath(new URL("./lib/index.ts", import.meta.url)) },
      { find: /^pipewatch\/testing$/, replacement: fileURLToPath(new URL("./lib/tracking/storage/contract.ts", import.meta.url)) },
    ],
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Redis-backed suites each use their own key prefix, so files may run in parallel.
    fileParallelism: true,
  },
});
