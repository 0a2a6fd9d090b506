import { expect, expectLive, test, uniqueId } from "./fixtures";

test.describe("pipeline list", () => {
  test("a run started after the page loaded appears and turns COMPLETED without a reload", async ({ page, control }) => {
    await page.goto("/");
    await expectLive(page);
    const id = uniqueId("live");
    await control.startRun({
      id,
      name: "live-etl",
      steps: [
        { name: "extract", ms: 600 },
        { name: "load", ms: 600 },
      ],
    });

    const row = page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`);
    await expect(row).toBeVisible();
    await expect(row).toHaveAttribute("data-status", "RUNNING");
    await expect(row).toHaveAttribute("data-status", "COMPLETED");
    await expect(row).toContainText("2/2");
    // Still the same document: nothing reloaded the page.
    expect(await page.evaluate(() => performance.getEntriesByType("navigation").length)).toBe(1);
  });

  test("status tabs and search narrow the list and survive a reload", async ({ page, control }) => {
    const prefix = uniqueId("filter");
    const ok = `${prefix}_ok`;
    const bad = `${prefix}_bad`;
    await control.startRun({ id: ok, name: "filter-ok", steps: [{ name: "only", ms: 10 }] });
    await control.startRun({ id: bad, name: "filter-bad", steps: [{ name: "only", ms: 10, fail: "planned failure" }] });
    await control.waitRun(ok);
    await control.waitRun(bad);

    await page.goto("/");
    await expectLive(page);
    await page.getByTestId("pipeline-search").fill(prefix);
    await expect(page).toHaveURL(new RegExp(`[?&]q=${prefix}`));
    const rows = page.getByTestId("pipeline-row");
    await expect(rows).toHaveCount(2);

    await page.getByTestId("status-tab-FAILED").click();
    await expect(page).toHaveURL(/status=FAILED/);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute("data-pipeline-id", bad);
    await expect(rows.first()).toContainText("planned failure");

    await page.reload();
    await expect(page.getByTestId("pipeline-search")).toHaveValue(prefix);
    await expect(page.getByTestId("status-tab-FAILED")).toHaveAttribute("aria-current", "page");
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute("data-pipeline-id", bad);

    await page.getByTestId("status-tab-COMPLETED").click();
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toHaveAttribute("data-pipeline-id", ok);
  });

  test("a dropped socket comes back without leaving a stale status", async ({ page, control }) => {
    const id = uniqueId("resync");
    await page.goto("/");
    await expectLive(page);
    await control.startRun({ id, name: "resync", steps: [{ name: "slowish", ms: 1_500 }] });
    const row = page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`);
    await expect(row).toHaveAttribute("data-status", "RUNNING");

    await control.dropSockets();
    try {
      await expect(page.getByTestId("connection-status")).not.toHaveText("live");
      await control.waitRun(id); // finishes while the page hears nothing
      await page.waitForTimeout(300); // on purpose: a status that sneaked through would show by now
      await expect(row).toHaveAttribute("data-status", "RUNNING");
    } finally {
      await control.restoreSockets(); // never leave later specs without a socket
    }
    await expectLive(page);
    await expect(row).toHaveAttribute("data-status", "COMPLETED");
  });
});
