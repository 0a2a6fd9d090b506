/**
 * The workers page against the harness server (memory storage): the harness heartbeats itself as
 * "e2e-worker", like the demo server does; made-up workers come and go through the control endpoint.
 * Everything after the first render arrives over the socket (workers:update), never by a reload.
 */
import type { Page } from "@playwright/test";
import { expect, expectLive, test, uniqueId } from "./fixtures";

const workerRow = (page: Page, workerId: string) => page.locator(`[data-testid="worker-row"][data-worker-id="${workerId}"]`);

test("the dashboard process lists itself online, and its running step shows live", async ({ page, control }) => {
  await page.goto("/workers");
  await expect(page.getByRole("link", { name: "Workers" })).toHaveAttribute("aria-current", "page");
  await expectLive(page);
  const own = workerRow(page, "e2e-worker");
  await expect(own).toHaveAttribute("data-status", "online");
  await expect(own.getByTestId("worker-status")).toHaveText("online");

  const id = uniqueId("workers-live");
  await control.startRun({ id, name: "workers-live", steps: [{ name: "slow-step", ms: 60_000 }] });
  try {
    const active = own.getByTestId("worker-active");
    await expect(active.getByRole("link", { name: id })).toHaveAttribute("href", `/pipelines/${id}`);
    await expect(active).toContainText("slow-step");
    // What the harness ran is what it offers.
    await expect(page.locator('[data-testid="definition"][data-definition-name="workers-live"]')).toBeVisible();
  } finally {
    await page.request.post(`/api/pipelines/${id}/cancel`);
  }
  await expect(own.getByTestId("worker-active")).not.toContainText(id);
});

test("a worker that starts heartbeating appears live, its pipelines in Definitions, and goes offline when it stops", async ({
  page,
  control,
}) => {
  const workerId = uniqueId("remote-worker");
  const name = uniqueId("remote-pipeline");
  await page.goto("/workers");
  await expectLive(page);
  await expect(workerRow(page, "e2e-worker")).toBeVisible();
  await expect(workerRow(page, workerId)).toHaveCount(0);

  const pipelines = [
    {
      name,
      pipelineType: "dataflow",
      steps: [
        { name: "load", dependsOn: [] },
        { name: "<b>stats</b>", dependsOn: ["load"] },
      ],
    },
  ];
  await control.heartbeat({ workerId, pipelines });
  const row = workerRow(page, workerId);
  await expect(row).toHaveAttribute("data-status", "online");
  await expect(row).toContainText("e2e-host");
  const definition = page.locator(`[data-testid="definition"][data-definition-name="${name}"]`);
  await expect(definition).toContainText("1 online worker");
  // Names are text, never markup.
  await expect(definition).toContainText("<b>stats</b>");

  await control.heartbeat({ workerId, pipelines, stopped: true });
  await expect(row).toHaveAttribute("data-status", "offline");
  await expect(row.getByTestId("worker-status")).toHaveText("offline");
  await expect(definition).toHaveCount(0);
});
