import { expect, expectLive, test, uniqueId } from "./fixtures";

const bar = (name: string) => `[data-testid="step-bar"][data-step-name="${name}"]`;

test.describe("pipeline detail", () => {
  test("the timeline shows one bar per declared step with live statuses", async ({ page, control }) => {
    const id = uniqueId("timeline");
    await control.startRun({
      id,
      name: "report",
      steps: [
        { name: "load", ms: 300 },
        { name: "stats", ms: 400, dependsOn: ["load"] },
        { name: "chart", ms: 2_500, dependsOn: ["load"] },
        { name: "publish", ms: 300, dependsOn: ["stats", "chart"] },
      ],
    });
    await page.goto(`/pipelines/${id}`);
    await expectLive(page);
    await expect(page.getByTestId("step-bar")).toHaveCount(4);
    await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING");
    await expect(page.locator(bar("chart"))).toHaveAttribute("data-status", "RUNNING");
    await expect(page.locator(bar("stats"))).toHaveAttribute("data-status", "COMPLETED");
    await expect(page.locator(bar("publish"))).toHaveAttribute("data-status", "PENDING");

    await expect(page.getByTestId("pipeline-status")).toHaveText("COMPLETED");
    for (const name of ["load", "stats", "chart", "publish"]) {
      await expect(page.locator(bar(name))).toHaveAttribute("data-status", "COMPLETED");
    }
    await expect(page.getByTestId("step-bar")).toHaveCount(4);
  });

  test("cancel from the UI ends a slow run as CANCELLED", async ({ page, control }) => {
    const id = uniqueId("cancel");
    await control.startRun({ id, name: "slow", steps: [{ name: "wait", ms: 60_000 }, { name: "never", ms: 10 }] });
    await page.goto(`/pipelines/${id}`);
    await expectLive(page);
    await expect(page.getByTestId("pipeline-status")).toHaveText("RUNNING");
    await page.getByTestId("cancel-run").click();
    await expect(page.getByTestId("pipeline-status")).toHaveText("CANCELLED");
    await expect(page.locator(bar("wait"))).toHaveAttribute("data-status", "CANCELLED");
    await expect(page.locator(bar("never"))).toHaveAttribute("data-status", "CANCELLED");
    await expect(page.getByTestId("cancel-run")).toHaveCount(0);
    await page.reload();
    await expect(page.getByTestId("pipeline-status")).toHaveText("CANCELLED");
  });

  test("delete asks for confirmation, then returns to the list", async ({ page, control }) => {
    const id = uniqueId("delete");
    await control.startRun({ id, name: "doomed", steps: [{ name: "quick", ms: 10 }] });
    await control.waitRun(id);
    await page.goto(`/pipelines/${id}`);
    await expectLive(page);
    await page.waitForLoadState("networkidle"); // the post-connect resync has landed
    await page.getByTestId("delete-run").click();
    await expect(page.getByRole("dialog")).toBeVisible();
    await page.getByTestId("confirm-delete").click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`)).toHaveCount(0);
    const res = await page.request.get(`/api/pipelines/${id}`);
    expect(res.status()).toBe(404);
  });

  test("a large result shows its stored size, truncated", async ({ page, control }) => {
    const id = uniqueId("big");
    await control.startRun({ id, name: "big", steps: [{ name: "dump", ms: 10, result: { blob: "x".repeat(200_000) } }] });
    await control.waitRun(id);
    await page.goto(`/pipelines/${id}`);
    await page.getByRole("button", { name: "Show result" }).click();
    await expect(page.getByTestId("result-truncated")).toContainText("bytes");
  });

  test("an unknown id gets the not-found page", async ({ page, allowConsoleError }) => {
    // Chromium logs the document's own 404 status; that status is the point of this test.
    allowConsoleError(/status of 404 .*\/pipelines\/does-not-exist-123\)$/);
    const res = await page.goto("/pipelines/does-not-exist-123");
    expect(res?.status()).toBe(404);
    await expect(page.getByTestId("not-found")).toBeVisible();
  });
});
