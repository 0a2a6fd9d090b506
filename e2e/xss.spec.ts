import { expect, test, uniqueId } from "./fixtures";

const PAYLOAD = `<img src=x onerror="window.__xss=1" id="xss-img"><script>window.__xss=2</script>`;

test("hostile step names, names and errors render as text", async ({ page, control }) => {
  const id = uniqueId("xss");
  let dialogs = 0;
  page.on("dialog", (d) => {
    dialogs++;
    void d.dismiss();
  });
  await control.startRun({
    id,
    name: `<b id="xss-name">bold</b>`,
    steps: [
      { name: PAYLOAD, ms: 10, result: { html: PAYLOAD } },
      { name: "fails", ms: 10, fail: `boom ${PAYLOAD} <svg onload=alert(1)>` },
    ],
  });
  await control.waitRun(id);

  await page.goto(`/?q=${id}`);
  const row = page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`);
  await expect(row).toContainText('<b id="xss-name">bold</b>');
  await expect(row).toContainText("<svg onload=alert(1)>");

  await page.goto(`/pipelines/${id}`);
  await expect(page.locator(`[data-testid="step-bar"]`).first()).toHaveAttribute("data-step-name", PAYLOAD);
  await expect(page.getByTestId("pipeline-error")).toContainText("<script>window.__xss=2</script>");
  await page.getByRole("button", { name: "Show result" }).first().click();
  await expect(page.getByTestId("result-viewer")).toContainText("onerror");

  await expect(page.locator("#xss-img, #xss-name, svg[onload]")).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  expect(dialogs).toBe(0);
});
