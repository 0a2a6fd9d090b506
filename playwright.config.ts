/**
 * Browser e2e against the real production build (run `npm run build` first): two harness servers
 * (e2e/server.ts) over memory storage with a deterministic workload — one open, one behind
 * DASHBOARD_TOKEN — driven by Debian's Chromium. Their ports come from the OS, once per run
 * (e2e/ports.ts), and reach the workers through the environment. e2e/sqlite-default.spec.ts starts
 * the production entry itself, over its default SQLite storage.
 */
import { defineConfig } from "@playwright/test";
import { APP_PORT, AUTH_APP_PORT, AUTH_CONTROL_PORT, CONTROL_PORT, DASHBOARD_TOKEN } from "./e2e/ports";

const harness = (port: number, controlPort: number, env: Record<string, string> = {}) => ({
  command: "npx tsx e2e/server.ts",
  url: `http://127.0.0.1:${port}/api/health`,
  env: { PORT: String(port), CONTROL_PORT: String(controlPort), NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "warn", ...env },
  reuseExistingServer: false,
  timeout: 60_000,
  stdout: "pipe" as const,
  stderr: "pipe" as const,
});

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: "list",
  use: {
    baseURL: `http://127.0.0.1:${APP_PORT}`,
    trace: "on-first-retry",
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: [harness(APP_PORT, CONTROL_PORT), harness(AUTH_APP_PORT, AUTH_CONTROL_PORT, { DASHBOARD_TOKEN })],
});
