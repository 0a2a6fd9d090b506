/**
 * axe (WCAG 2 A and AA) on every page, in light and dark: no serious or critical violation. Each
 * page is scanned once its content is drawn (rows, timeline bars, chart marks), since axe only
 * judges what is rendered. A page added later gets a line in PAGES (or its own test below).
 */
import type { Page } from "@playwright/test";
import {
  applyColorScheme,
  controlClient,
  expect,
  expectColorScheme,
  expectLive,
  expectNoSeriousA11yViolations,
  test,
  uniqueId,
  type ColorScheme,
} from "./fixtures";
import { AUTH_APP_PORT } from "./ports";

const prefix = uniqueId("a11y");
/** A dataflow run that has ended: stages, a failed step with its error, a step that never ran. */
const finishedId = `${prefix}_finished`;
/** A dataflow run that is still running while it is scanned (cancelled by its test). */
const runningId = (scheme: ColorScheme) => `${prefix}_running_${scheme}`;

test.beforeAll(async () => {
  const control = controlClient();
  await control.backfillHistory();
  await control.startRun({
    id: finishedId,
    name: "a11y-report",
    steps: [
      { name: "load", ms: 50 },
      { name: "stats", ms: 80, dependsOn: ["load"] },
      { name: "chart", ms: 60, dependsOn: ["load"], fail: "chart renderer crashed" },
      { name: "publish", ms: 10, dependsOn: ["stats", "chart"] },
    ],
  });
  await control.waitRun(finishedId);
  // An offline worker beside the harness's own online one: both badges get scanned.
  await control.heartbeat({ workerId: `${prefix}_stopped-worker`, stopped: true });
});

const bars = (page: Page) => page.getByTestId("step-bar");
const rows = (page: Page) => page.getByTestId("pipeline-row");

/** Each page: where it is, and what must be on screen before axe looks at it. */
const PAGES: { name: string; path: string; ready: (page: Page) => Promise<void> }[] = [
  {
    name: "list",
    path: "/",
    ready: async (page) => {
      await expectLive(page);
      await expect(rows(page).first()).toBeVisible();
    },
  },
  {
    name: "list filtered by status",
    path: "/?status=FAILED",
    ready: async (page) => {
      await expectLive(page);
      await expect(page.getByTestId("status-tab-FAILED")).toHaveAttribute("aria-current", "page");
      await expect(rows(page).first()).toHaveAttribute("data-status", "FAILED");
    },
  },
  {
    name: "list filtered to nothing",
    path: "/?q=no-such-run-prefix",
    ready: async (page) => {
      await expectLive(page);
      await expect(page.getByTestId("empty-state")).toBeVisible();
    },
  },
  {
    name: "finished run",
    path: `/pipelines/${finishedId}`,
    ready: async (page) => {
      await expectLive(page);
      await expect(page.getByTestId("pipeline-status")).toHaveText("FAILED");
      await expect(bars(page)).toHaveCount(4);
      await expect(page.getByTestId("pipeline-error")).toBeVisible();
    },
  },
  {
    name: "metrics",
    path: "/metrics?days=7",
    ready: async (page) => {
      await expect(page.getByTestId("success-rate-chart").locator(".recharts-line-dot").first()).toBeVisible();
      await expect(page.getByTestId("daily-volume-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
      await expect(page.getByTestId("busiest-hours-chart").locator(".recharts-bar-rectangle").first()).toBeVisible();
      await expect(page.getByTestId("failure-reasons")).toContainText("Upstream API timed out");
    },
  },
  {
    name: "workers",
    path: "/workers",
    ready: async (page) => {
      await expectLive(page);
      await expect(page.locator('[data-testid="worker-row"][data-worker-id="e2e-worker"]')).toHaveAttribute("data-status", "online");
      await expect(page.locator(`[data-testid="worker-row"][data-worker-id="${prefix}_stopped-worker"]`)).toHaveAttribute(
        "data-status",
        "offline",
      );
      await expect(page.locator('[data-testid="definition"][data-definition-name="a11y-report"]')).toBeVisible();
    },
  },
];

for (const scheme of ["light", "dark"] as const) {
  test.describe(`axe in ${scheme} mode`, () => {
    test.beforeEach(async ({ page }) => {
      await applyColorScheme(page, scheme);
    });

    for (const { name, path, ready } of PAGES) {
      test(name, async ({ page }) => {
        await page.goto(path);
        await expectColorScheme(page, scheme);
        await ready(page);
        await expectNoSeriousA11yViolations(page, `${name} (${scheme})`);
      });
    }

    test("running run", async ({ page, control }) => {
      const id = runningId(scheme);
      await control.startRun({
        id,
        name: "a11y-live",
        steps: [
          { name: "fetch", ms: 50 },
          { name: "crunch", ms: 60_000, dependsOn: ["fetch"] },
          { name: "report", ms: 10, dependsOn: ["crunch"] },
        ],
      });
      try {
        await page.goto(`/pipelines/${id}`);
        await expectColorScheme(page, scheme);
        await expectLive(page);
        await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING");
        await expect(page.locator('[data-testid="step-bar"][data-step-name="crunch"]')).toHaveAttribute("data-status", "RUNNING");
        await expect(page.getByTestId("pipeline-duration")).toHaveText(/\d/);
        await expectNoSeriousA11yViolations(page, `running run (${scheme})`);
      } finally {
        await page.request.post(`/api/pipelines/${id}/cancel`); // free the harness
      }
    });

    test("not-found pages", async ({ page, allowConsoleError }) => {
      // Chromium logs each document's own 404 status; those statuses are what these pages are for.
      allowConsoleError(/status of 404 /);
      for (const path of ["/no-such-page", "/pipelines/does-not-exist-a11y"]) {
        expect((await page.goto(path))?.status()).toBe(404);
        await expectColorScheme(page, scheme);
        await expect(page.getByTestId("not-found")).toBeVisible();
        await expectNoSeriousA11yViolations(page, `not found ${path} (${scheme})`);
      }
    });

    test("login, before and after a wrong token", async ({ page }) => {
      const base = `http://127.0.0.1:${AUTH_APP_PORT}`;
      await page.goto(`${base}/login`);
      await expectColorScheme(page, scheme);
      await expect(page.getByLabel("Dashboard token")).toBeVisible();
      await expectNoSeriousA11yViolations(page, `login (${scheme})`);

      await page.getByLabel("Dashboard token").fill("not-the-token");
      await page.getByRole("button", { name: "Log in" }).click();
      await expect(page.locator("#login-error")).toHaveText("That token is not valid.");
      await expectNoSeriousA11yViolations(page, `login with an error (${scheme})`);
    });
  });
}

/** Presses Tab until the focused element matches `selector` (at most `limit` presses). */
async function tabUntilFocused(page: Page, selector: string, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`${limit} Tab presses never focused ${selector}`);
}

/** The focused element draws the focus ring (the `focus-ring` utility is a box-shadow ring). */
async function expectVisibleFocus(page: Page): Promise<void> {
  const ring = await page.evaluate(() => (document.activeElement ? getComputedStyle(document.activeElement).boxShadow : "none"));
  expect(ring, "a visible focus ring").not.toBe("none");
}

test("the keyboard reaches the status tabs and a row, and Enter follows them", async ({ page }) => {
  await page.goto("/");
  await expectLive(page);
  await expect(rows(page).first()).toBeVisible();

  await tabUntilFocused(page, '[data-testid="status-tab-FAILED"]');
  await expectVisibleFocus(page);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/[?&]status=FAILED/);
  await expect(page.getByTestId("status-tab-FAILED")).toHaveAttribute("aria-current", "page");
  await expect(rows(page).first()).toHaveAttribute("data-status", "FAILED");

  await tabUntilFocused(page, '[data-testid="pipeline-row"] a');
  await expectVisibleFocus(page);
  const id = await page.evaluate(() => document.activeElement?.closest<HTMLElement>('[data-testid="pipeline-row"]')?.dataset.pipelineId);
  expect(id).toBeTruthy();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(`/pipelines/${encodeURIComponent(id!)}`);
  await expect(page.getByTestId("pipeline-status")).toHaveText("FAILED");
});
