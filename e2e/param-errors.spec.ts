import { expect, test, uniqueId } from "./fixtures";

/** A page refuses a bad parameter in the API's own words and links to the view it most likely meant. */
test.describe("bad page parameters", () => {
  test("metrics with an unusable range names days and links to the default range", async ({ page, request }) => {
    const api = await request.get("/api/metrics?days=abc");
    expect(api.status()).toBe(400);
    const { error } = (await api.json()) as { error: string };
    expect(error).toMatch(/^days\b/);

    await page.goto("/metrics?days=abc");
    const panel = page.getByTestId("param-error");
    await expect(panel).toBeVisible();
    await expect(panel.getByTestId("param-error-days")).toHaveText(error);
    await expect(page.getByTestId("success-rate-chart")).toHaveCount(0);

    await panel.getByTestId("param-error-link").click();
    await expect(page).toHaveURL(/\/metrics\?days=7$/);
    await expect(page.getByTestId("param-error")).toHaveCount(0);
    await expect(page.getByTestId("range-7")).toHaveAttribute("aria-current", "page");
  });

  test("the list with an unknown status keeps the search and drops only the status", async ({ page, request, control }) => {
    const id = uniqueId("param");
    await control.startRun({ id, name: "param-etl", steps: [{ name: "only", ms: 10 }] });
    await control.waitRun(id);
    const { error } = (await (await request.get("/api/pipelines?status=DONE")).json()) as { error: string };

    await page.goto(`/?status=DONE&q=${id}`);
    const panel = page.getByTestId("param-error");
    await expect(panel.getByTestId("param-error-status")).toHaveText(error);
    await expect(panel.getByTestId("param-error-status")).toContainText(
      "status must be one of PENDING, RUNNING, COMPLETED, FAILED, CANCELLED",
    );
    await expect(page.getByTestId("pipeline-row")).toHaveCount(0);

    await panel.getByTestId("param-error-link").click();
    await expect(page).toHaveURL(new RegExp(`/\\?q=${id}$`));
    await expect(page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`)).toBeVisible();
    await expect(page.getByTestId("status-tab-ALL")).toHaveAttribute("aria-current", "page");
  });

  test("a search too long for the API is refused, not cut short", async ({ page }) => {
    await page.goto(`/?status=FAILED&q=${"x".repeat(201)}`);
    await expect(page.getByTestId("param-error-q")).toHaveText("q must be at most 200 characters");
    await expect(page.getByTestId("param-error-link")).toHaveAttribute("href", "/?status=FAILED");
  });

  test("a malformed run id is named as such, with the way back to the list", async ({ page }) => {
    await page.goto(`/pipelines/${encodeURIComponent("bad id!")}`);
    await expect(page.getByTestId("param-error-id")).toHaveText("id must be 1-200 characters of [A-Za-z0-9._:-]");
    await expect(page.getByTestId("param-error-link")).toHaveAttribute("href", "/");
  });
});
