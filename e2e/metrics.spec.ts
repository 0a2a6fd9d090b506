import { expect, test } from "./fixtures";

test("the 7-day success-rate chart draws one point per day", async ({ page, control }) => {
  await control.backfillHistory();
  await page.goto("/metrics?days=7");
  const chart = page.getByTestId("success-rate-chart");
  await expect(chart.locator(".recharts-line-dot")).toHaveCount(7);
  await expect(page.getByTestId("kpi-runs")).toBeVisible();
  // A week of history is far below 1 run/min: the unit adapts instead of showing "0.00/min".
  const throughput = page.getByTestId("kpi-throughput");
  await expect(throughput).toContainText(/[1-9][\d.,]*\/(min|h|day)/);
  await expect(throughput).toContainText(/finished runs per (minute|hour|day)/);
  await expect(page.getByTestId("failure-reasons")).toContainText("Upstream API timed out");
  await expect(page.getByTestId("slowest-steps")).toContainText("extract");

  await page.getByTestId("range-30").click();
  await expect(page).toHaveURL(/days=30/);
  await expect(page.getByTestId("range-30")).toHaveAttribute("aria-current", "page");
  // 30 days, of which only the last 7 (plus runs of other specs today) have finished runs: gaps, not 0%.
  await expect(chart.locator(".recharts-line-dot")).toHaveCount(7);
});
