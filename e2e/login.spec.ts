import { expect, test } from "./fixtures";
import { AUTH_APP_PORT, DASHBOARD_TOKEN } from "./ports";

const base = `http://127.0.0.1:${AUTH_APP_PORT}`;

test("with DASHBOARD_TOKEN every page needs a login", async ({ page }) => {
  for (const path of ["/", "/metrics", "/pipelines/anything"]) {
    await page.goto(`${base}${path}`);
    await expect(page).toHaveURL(/\/login/);
    await expect(page.locator("main"), "one <main> landmark").toHaveCount(1);
  }
  expect((await page.request.get(`${base}/api/pipelines`)).status()).toBe(401);

  await page.goto(`${base}/metrics`);
  await page.getByLabel("Dashboard token").fill(DASHBOARD_TOKEN);
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(`${base}/metrics`);
  await expect(page.getByTestId("connection-status")).toHaveText("live");
  await page.goto(`${base}/`);
  await expect(page.getByRole("heading", { name: "Pipeline runs" })).toBeVisible();
  await expect(page.locator("main")).toHaveCount(1);
});
