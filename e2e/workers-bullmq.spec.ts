/**
 * The workers page with real BullMQ workers: a dashboard process on the test Redis (the production
 * entry, no demo) and two `pipewatch worker` processes. Both show online; one stops (SIGTERM) and its
 * row turns offline live, without a reload.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { expect, test, type Page } from "@playwright/test";
import { connect, deleteKeys, uniquePrefix } from "../tests/redis/helpers";
import { TEST_REDIS_URL } from "../tests/test-redis-url";
import { exited, startWorkerProcess, type WorkerProcess } from "../tests/distributed/processes";

const prefix = uniquePrefix("e2e-workers");
const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, EVENTS_URL: TEST_REDIS_URL, LEASE_MS: "4000" };
let dashboard: ChildProcess;
let url: string;
const workers: WorkerProcess[] = [];

/** `node dist/server/index.js` on a port from the OS; resolves with its URL once it listens. */
function startDashboard(): Promise<string> {
  dashboard = spawn(process.execPath, ["dist/server/index.js"], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", PORT: "0", DEMO: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: dashboard.stdout! }).on("line", (line) => {
      if (line.includes('"msg":"pipewatch server listening"')) resolve(String((JSON.parse(line) as { url: string }).url));
    });
    dashboard.once("exit", (code) => reject(new Error(`the dashboard exited ${code} before listening`)));
  });
}

const row = (page: Page, workerId: string) => page.locator(`[data-testid="worker-row"][data-worker-id="${workerId}"]`);

test.beforeAll(async () => {
  url = await startDashboard();
  workers.push(...(await Promise.all([startWorkerProcess(env), startWorkerProcess(env)])));
});

test.afterAll(async () => {
  for (const child of [...workers.map((w) => w.child), dashboard]) {
    if (!child || child.exitCode !== null || child.signalCode !== null) continue;
    const done = exited(child);
    child.kill("SIGTERM");
    await done;
  }
  const redis = connect();
  await deleteKeys(redis, prefix);
  await redis.quit();
});

test("two BullMQ worker processes show online; one that stops turns offline live", async ({ page }) => {
  const [staying, leaving] = workers as [WorkerProcess, WorkerProcess];
  await page.goto(`${url}/workers`);
  await expect(page.getByTestId("connection-status")).toHaveText("live");
  for (const w of workers) {
    await expect(row(page, w.workerId)).toHaveAttribute("data-status", "online");
    await expect(row(page, w.workerId)).toContainText(String(w.child.pid));
  }
  await expect(page.locator('[data-testid="definition"][data-definition-name="fanout"]')).toContainText("2");

  const done = exited(leaving.child);
  leaving.child.kill("SIGTERM");
  expect(await done).toBe(0);
  await expect(row(page, leaving.workerId)).toHaveAttribute("data-status", "offline");
  await expect(row(page, staying.workerId)).toHaveAttribute("data-status", "online");
});
