import { expect, expectLive, test, uniqueId } from "./fixtures";

/** Screenshots of the three pages in light and dark, saved to e2e/screenshots/ (gitignored) for review. */
test.describe("screenshots", () => {
  for (const scheme of ["light", "dark"] as const) {
    test(`list, detail and metrics in ${scheme} mode`, async ({ page, control }) => {
      await page.emulateMedia({ colorScheme: scheme });
      await control.backfillHistory();
      const id = uniqueId("shot");
      await control.startRun({
        id,
        name: "report",
        steps: [
          { name: "load", ms: 300 },
          { name: "stats", ms: 700, dependsOn: ["load"] },
          { name: "chart", ms: 20_000, dependsOn: ["load"] },
          { name: "publish", ms: 300, dependsOn: ["stats", "chart"] },
        ],
      });

      // Long ids and names must truncate cleanly, not push the columns apart.
      await control.startRun({
        id: `${id}_with_a_rather_long_identifier_from_an_upstream_scheduler_2026-11-29T05:00:00Z`,
        name: "nightly-warehouse-export-with-a-very-long-descriptive-pipeline-name",
        steps: [{ name: "a-step-name-that-is-also-quite-long-for-a-narrow-column", ms: 10 }],
      });

      await page.goto("/");
      await expectLive(page);
      await expect(page.getByTestId("pipeline-row").first()).toBeVisible();
      await expect(page.locator("html")).toHaveClass(scheme === "dark" ? /dark/ : /^(?!.*dark).*$/);
      await page.screenshot({ path: `e2e/screenshots/list-${scheme}.png` }); // virtualized: the viewport is the page

      await page.goto("/?q=no-such-run-prefix");
      await expect(page.getByTestId("empty-state")).toBeVisible();
      await page.screenshot({ path: `e2e/screenshots/list-empty-${scheme}.png` });

      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto("/");
      await expect(page.getByTestId("pipeline-row").first()).toBeVisible();
      await page.screenshot({ path: `e2e/screenshots/list-mobile-${scheme}.png` });
      await page.goto(`/pipelines/${id}`);
      await expect(page.getByTestId("pipeline-status")).toBeVisible();
      await page.screenshot({ path: `e2e/screenshots/detail-mobile-${scheme}.png`, fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });

      await page.goto(`/pipelines/${id}`);
      await expect(page.locator('[data-testid="step-bar"][data-step-name="stats"]')).toHaveAttribute("data-status", "COMPLETED");
      await page.screenshot({ path: `e2e/screenshots/detail-${scheme}.png`, fullPage: true });

      await page.goto("/metrics?days=7");
      await expect(page.getByTestId("success-rate-chart").locator(".recharts-line-dot").first()).toBeVisible();
      await page.screenshot({ path: `e2e/screenshots/metrics-${scheme}.png`, fullPage: true });
    });
  }
});
