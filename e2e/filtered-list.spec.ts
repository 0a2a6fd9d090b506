import type { Page } from "@playwright/test";
import { expect, expectLive, test, uniqueId } from "./fixtures";

/** The tab counts shown equal the API's, once the page has caught up. */
async function expectCountsMatchApi(page: Page): Promise<void> {
  await expect
    .poll(async () => {
      const { counts } = (await (await page.request.get("/api/pipelines?limit=1")).json()) as { counts: Record<string, number> };
      const shown = await page.getByTestId("status-count-RUNNING").textContent();
      const completed = await page.getByTestId("status-count-COMPLETED").textContent();
      return `${shown}/${completed}` === `${counts.RUNNING}/${counts.COMPLETED}`;
    })
    .toBe(true);
}

test.describe("filtered list", () => {
  test("on the Running tab a finished run leaves after a highlight and a new run appears", async ({ page, control }) => {
    const prefix = uniqueId("tab");
    const early = `${prefix}_early`;
    const late = `${prefix}_late`;
    await control.startRun({ id: early, name: "tab-early", steps: [{ name: "work", ms: 2_500 }] });
    await page.goto(`/?status=RUNNING&q=${prefix}`);
    await expectLive(page);
    await page.mouse.move(0, 0); // the pointer away from the rows, as an operator glancing at the page

    const row = (id: string) => page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`);
    await expect(row(early)).toHaveAttribute("data-status", "RUNNING");

    await control.startRun({ id: late, name: "tab-late", steps: [{ name: "work", ms: 6_000 }] });
    await expect(row(late)).toHaveAttribute("data-status", "RUNNING");
    // Newest first: the later run is on top.
    await expect(page.getByTestId("pipeline-row").first()).toHaveAttribute("data-pipeline-id", late);

    // The early run finishes: first shown with its new status, marked as leaving, then gone.
    await expect(row(early)).toHaveAttribute("data-leaving", "true", { timeout: 5_000 });
    await expect(row(early)).toHaveAttribute("data-status", "COMPLETED");
    await expect(row(early)).toHaveCount(0);
    await expect(row(late)).toBeVisible();
    await expectCountsMatchApi(page);
  });

  test("a run that starts matching appears on the Completed tab in its place", async ({ page, control }) => {
    const prefix = uniqueId("done");
    const first = `${prefix}_a`;
    const second = `${prefix}_b`;
    await control.startRun({ id: first, name: "done-a", steps: [{ name: "quick", ms: 10 }] });
    await control.waitRun(first);
    await page.goto(`/?status=COMPLETED&q=${prefix}`);
    await expectLive(page);
    await page.mouse.move(0, 0);
    await expect(page.getByTestId("pipeline-row")).toHaveCount(1);

    await control.startRun({ id: second, name: "done-b", steps: [{ name: "slower", ms: 800 }] });
    // Not shown while running (it does not match), shown once it completes.
    await expect(page.getByTestId("pipeline-row")).toHaveCount(1);
    await control.waitRun(second);
    await expect(page.getByTestId("pipeline-row")).toHaveCount(2);
    await expect(page.getByTestId("pipeline-row").first()).toHaveAttribute("data-pipeline-id", second);
    await expect(page.getByTestId("pipeline-row").first()).toHaveAttribute("data-status", "COMPLETED");
    await expectCountsMatchApi(page);
  });

  test("a leaving row waits while the pointer is over the list", async ({ page, control }) => {
    const id = uniqueId("hover");
    await control.startRun({ id, name: "hover", steps: [{ name: "work", ms: 2_000 }] });
    await page.goto(`/?status=RUNNING&q=${id}`);
    await expectLive(page);
    const row = page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`);
    await row.hover();
    await control.waitRun(id);
    await expect(row).toHaveAttribute("data-leaving", "true");
    await page.waitForTimeout(2_000); // on purpose: past the highlight, the row is still there under the pointer
    await expect(row).toBeVisible();
    await page.mouse.move(0, 0);
    await expect(row).toHaveCount(0);
  });
});
