import type { Page } from "@playwright/test";
import { expect, expectLive, test, uniqueId, type Control } from "./fixtures";

/**
 * The list page streams: the server sends the loading skeleton first, then the rows in a hidden
 * `<div hidden id="S:0">` with React's `$RC` script, which reveals them on a later animation frame.
 * Until then the boundary is still server content waiting to hydrate. These specs hold that reveal
 * until the socket is live, the ordering a loaded machine produces now and then, and record every
 * moment two rows for one run are in the document (hidden ones count: Playwright's locators see them).
 * The harness delays list reads while the page loads, so its rows always stream after the shell.
 */
function holdRevealAndWatchRows(): void {
  const w = window as unknown as { __revealsHeld: number; __releaseReveals: () => void; __duplicateRows: string[] };
  const held: FrameRequestCallback[] = [];
  w.__revealsHeld = 0;
  w.__duplicateRows = [];
  // React's reveal ($RV) runs from requestAnimationFrame, or from setTimeout once a boundary was
  // revealed before: both are held.
  const nativeRaf = window.requestAnimationFrame.bind(window);
  const nativeTimeout = window.setTimeout.bind(window);
  const isReveal = (callback: unknown) => typeof callback === "function" && callback.name === "bound $RV";
  window.requestAnimationFrame = (callback: FrameRequestCallback) => {
    if (!isReveal(callback)) return nativeRaf(callback);
    w.__revealsHeld++;
    held.push(callback);
    return 0;
  };
  window.setTimeout = ((callback: TimerHandler, ms?: number, ...args: unknown[]) => {
    if (!isReveal(callback)) return nativeTimeout(callback, ms, ...args);
    w.__revealsHeld++;
    held.push(callback as FrameRequestCallback);
    return 0;
  }) as typeof window.setTimeout;
  w.__releaseReveals = () => {
    for (const callback of held.splice(0)) nativeRaf(callback);
  };
  new MutationObserver(() => {
    const seen = new Set<string>();
    for (const row of document.querySelectorAll('[data-testid="pipeline-row"]')) {
      const id = row.getAttribute("data-pipeline-id") ?? "";
      if (seen.has(id)) w.__duplicateRows.push(id);
      seen.add(id);
    }
  }).observe(document, { subtree: true, childList: true });
}

async function openWithRevealHeld(page: Page, control: Control, path: string): Promise<void> {
  await page.addInitScript(holdRevealAndWatchRows);
  await control.delayListReads(300);
  try {
    await page.goto(path);
  } finally {
    await control.delayListReads(0);
  }
  // Every script has run and the socket is connected: the provider's state changed meanwhile.
  await page.waitForLoadState("load");
  await expectLive(page);
  expect(
    await page.evaluate(() => (window as unknown as { __revealsHeld: number }).__revealsHeld),
    "the page streamed its rows",
  ).toBeGreaterThan(0);
  await page.evaluate(() => (window as unknown as { __releaseReveals: () => void }).__releaseReveals());
}

test.describe("streamed list", () => {
  test("a run is never two rows while the server's rows wait to be revealed", async ({ page, control }) => {
    const id = uniqueId("streamed");
    await control.startRun({ id, name: "streamed", steps: [{ name: "only", ms: 10 }] });
    await control.waitRun(id);

    await openWithRevealHeld(page, control, `/?q=${id}`);
    const row = page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${id}"]`);
    await expect(row).toBeVisible();
    await expect(row).toHaveAttribute("data-status", "COMPLETED");
    expect(await page.evaluate(() => (window as unknown as { __duplicateRows: string[] }).__duplicateRows)).toEqual([]);
  });

  test("the revealed server rows hydrate and follow live updates", async ({ page, control }) => {
    const prefix = uniqueId("streamed_live");
    await control.startRun({ id: `${prefix}_a`, name: "streamed-a", steps: [{ name: "only", ms: 10 }] });
    await control.waitRun(`${prefix}_a`);
    await openWithRevealHeld(page, control, `/?q=${prefix}`);
    await page.mouse.move(0, 0);
    await control.startRun({ id: `${prefix}_b`, name: "streamed-b", steps: [{ name: "work", ms: 1_500 }] });
    const row = page.locator(`[data-testid="pipeline-row"][data-pipeline-id="${prefix}_b"]`);
    await expect(row).toHaveAttribute("data-status", "RUNNING");
    await expect(row).toHaveAttribute("data-status", "COMPLETED");
    await expect(page.getByTestId("pipeline-row")).toHaveCount(2);
    expect(await page.evaluate(() => (window as unknown as { __duplicateRows: string[] }).__duplicateRows)).toEqual([]);
  });
});
