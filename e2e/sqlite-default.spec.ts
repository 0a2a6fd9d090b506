/**
 * The dashboard as `npm start` runs it by default: the production entry over a SQLite file with the
 * demo on. Not one of the harness servers: the spec starts `node dist/server/index.js` itself, on a
 * port from the OS and a file in a temp folder, and restarts it on the same file.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { expect, expectLive, test } from "./fixtures";

interface Entry {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

/** Starts the entry on `path`; resolves with its URL once it logs that it listens. */
function startEntry(path: string): Promise<Entry> {
  const child = spawn(process.execPath, ["dist/server/index.js"], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", PORT: "0", PIPEWATCH_DB: path },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the entry did not listen within 30 s")), 30_000);
    void exited.then((code) => reject(new Error(`the entry exited ${code} before listening`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.includes('"pipewatch server listening"')) return;
      clearTimeout(timer);
      resolve({ child, url: String((JSON.parse(line) as { url: string }).url), exited });
    });
  });
}

async function stopEntry(entry: Entry): Promise<void> {
  entry.child.kill("SIGTERM");
  expect(await entry.exited).toBe(0);
}

let dir = "";
let path = "";
let entry: Entry | null = null;

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pipewatch-e2e-sqlite-"));
  path = join(dir, "data", "pipewatch.db");
  entry = await startEntry(path);
});

test.afterAll(async () => {
  if (entry && entry.child.exitCode === null) await stopEntry(entry);
  rmSync(dir, { recursive: true, force: true });
});

test.describe("the SQLite default", () => {
  test("lists the demo's runs, shows one, reports sqlite, and shows the same run after a restart", async ({ page }) => {
    test.setTimeout(90_000);
    const health = (await (await page.request.get(`${entry!.url}/api/health`)).json()) as { storage: string; changeFeed: string };
    expect(health).toMatchObject({ status: "healthy", storage: "sqlite", changeFeed: "live" });

    await page.goto(`${entry!.url}/`);
    await expectLive(page);
    // The back-filled week and the live demo share the list.
    await expect(page.getByTestId("pipeline-row").first()).toBeVisible();
    await expect(page.locator('[data-testid="pipeline-row"][data-pipeline-id^="backfill-"]').first()).toBeVisible();
    const finished = page.locator('[data-testid="pipeline-row"]:not([data-pipeline-id^="backfill-"])[data-status="COMPLETED"]').first();
    await expect(finished).toBeVisible({ timeout: 30_000 });
    const id = (await finished.getAttribute("data-pipeline-id"))!;

    await page.goto(`${entry!.url}/pipelines/${id}`);
    await expectLive(page);
    await expect(page.getByTestId("pipeline-status")).toHaveText("COMPLETED");
    const bars = await page.getByTestId("step-bar").count();
    expect(bars).toBeGreaterThan(0);

    // Leave the page first: a socket left open would log its failed reconnects as console errors.
    await page.goto("about:blank");
    await stopEntry(entry!);
    entry = await startEntry(path);
    await page.goto(`${entry.url}/pipelines/${id}`);
    await expectLive(page);
    await expect(page.getByTestId("pipeline-status")).toHaveText("COMPLETED");
    await expect(page.getByTestId("step-bar")).toHaveCount(bars);
  });
});
