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

  test("a running run's duration ticks and its running bar grows without new events", async ({ page, control }) => {
    const id = uniqueId("growing");
    // The slow step starts after "first", so its bar is a growing share of the run's window
    // (a bar starting at the run's start would always span the whole, ever-growing window).
    await control.startRun({
      id,
      name: "grow",
      steps: [
        { name: "first", ms: 400 },
        { name: "slow", ms: 60_000 },
      ],
    });
    await page.goto(`/pipelines/${id}`);
    await expectLive(page);
    const slow = page.locator(bar("slow"));
    await expect(slow).toHaveAttribute("data-status", "RUNNING");
    const duration = page.getByTestId("pipeline-duration");
    await expect(duration).toHaveText(/\d/);
    const width = async () => (await slow.boundingBox())?.width ?? 0;
    const before = { width: await width(), text: await duration.textContent() };
    // No step event arrives while "slow" runs: only the shared clock can change these.
    await expect.poll(width, { timeout: 3_000 }).toBeGreaterThan(before.width + 1);
    await expect(duration).not.toHaveText(before.text ?? "");
    expect((await page.request.post(`/api/pipelines/${id}/cancel`)).status()).toBe(202); // free the harness
  });

  test("cancel from the UI ends a slow run as CANCELLED", async ({ page, control }) => {
    const id = uniqueId("cancel");
    await control.startRun({
      id,
      name: "slow",
      steps: [
        { name: "wait", ms: 60_000 },
        { name: "never", ms: 10 },
      ],
    });
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

  test("a failed delete says why, keeps following the run, and can be retried", async ({ page, control, allowConsoleError }) => {
    allowConsoleError(/status of 500/); // the refused DELETE below, on purpose
    const id = uniqueId("undeletable");
    await control.startRun({ id, name: "sticky", steps: [{ name: "work", ms: 1_500 }] });
    await page.goto(`/pipelines/${id}`);
    await expectLive(page);
    await page.waitForLoadState("networkidle");
    await page.route(`**/api/pipelines/${id}`, (route) =>
      route.request().method() === "DELETE"
        ? route.fulfill({ status: 500, contentType: "application/json", body: JSON.stringify({ error: "storage unavailable" }) })
        : route.continue(),
    );
    await page.getByTestId("delete-run").click();
    await page.getByTestId("confirm-delete").click();
    await expect(page.getByTestId("delete-error")).toContainText("storage unavailable");
    await expect(page.getByTestId("confirm-delete")).toHaveText("Try again");
    await page.getByRole("button", { name: "Keep it" }).click();
    await expect(page.getByTestId("action-error")).toContainText("storage unavailable");

    // Still following the run: the finish it misses while the socket is down comes from a refetch.
    await control.dropSockets();
    try {
      await expect(page.getByTestId("connection-status")).not.toHaveText("live");
      await control.waitRun(id);
    } finally {
      await control.restoreSockets();
    }
    await expectLive(page);
    await expect(page.getByTestId("pipeline-status")).toHaveText("COMPLETED");
    await expect(page.locator(bar("work"))).toHaveAttribute("data-status", "COMPLETED");

    await page.unroute(`**/api/pipelines/${id}`);
    await page.getByTestId("delete-run").click();
    await page.getByTestId("confirm-delete").click();
    await expect(page).toHaveURL(/\/$/);
    expect((await page.request.get(`/api/pipelines/${id}`)).status()).toBe(404);
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
