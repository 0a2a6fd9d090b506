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

      await page.goto("/");
      await expectLive(page);
      await expect(page.getByTestId("pipeline-row").first()).toBeVisible();
      await expect(page.locator("html")).toHaveClass(scheme === "dark" ? /dark/ : /^(?!.*dark).*$/);
      await page.screenshot({ path: `e2e/screenshots/list-${scheme}.png` }); // virtualized: the viewport is the page

      await page.goto(`/pipelines/${id}`);
      await expect(page.locator('[data-testid="step-bar"][data-step-name="stats"]')).toHaveAttribute("data-status", "COMPLETED");
      await page.screenshot({ path: `e2e/screenshots/detail-${scheme}.png`, fullPage: true });

      await page.goto("/metrics?days=7");
      await expect(page.getByTestId("success-rate-chart").locator(".recharts-line-dot").first()).toBeVisible();
      await page.screenshot({ path: `e2e/screenshots/metrics-${scheme}.png`, fullPage: true });
    });
  }
});
