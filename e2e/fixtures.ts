/**
 * Shared e2e helpers: a `page` that fails the test on any console error or uncaught page error,
 * `control`, the harness's control endpoint (start runs, back-fill history, drop sockets), and the
 * theme and axe helpers of the accessibility spec.
 */
import AxeBuilder from "@axe-core/playwright";
import { test as base, expect, type Page } from "@playwright/test";
import { CONTROL_PORT } from "./ports";

export interface StepSpec {
  name: string;
  ms: number;
  fail?: string;
  dependsOn?: string[];
  result?: unknown;
}

export interface Control {
  startRun(spec: { id: string; name: string; steps: StepSpec[] }): Promise<string>;
  waitRun(id: string): Promise<{ status: string }>;
  backfillHistory(): Promise<void>;
  dropSockets(): Promise<void>;
  restoreSockets(): Promise<void>;
  /** List reads answer `ms` later (0: at once): the list page's rows then stream after its shell. */
  delayListReads(ms: number): Promise<void>;
  /** One heartbeat of a made-up worker (`stopped`: its last). */
  heartbeat(worker: {
    workerId: string;
    stopped?: boolean;
    pipelines?: { name: string; pipelineType: string; steps: { name: string; dependsOn: string[] }[] }[];
  }): Promise<void>;
}

export function controlClient(port = CONTROL_PORT): Control {
  const post = async <T>(path: string, body: unknown = {}): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body: JSON.stringify(body) });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`control ${path}: ${json.error ?? res.status}`);
    return json;
  };
  return {
    startRun: async (spec) => (await post<{ pipelineId: string }>("/runs", spec)).pipelineId,
    waitRun: (id) => post<{ status: string }>("/runs/wait", { id }),
    backfillHistory: async () => void (await post("/history")),
    dropSockets: async () => void (await post("/sockets/drop")),
    restoreSockets: async () => void (await post("/sockets/restore")),
    delayListReads: async (ms) => void (await post("/reads/delay", { ms })),
    heartbeat: async (worker) => void (await post("/workers/heartbeat", worker)),
  };
}

/** A unique run id per call, so specs sharing one server never see each other's runs by accident. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export async function expectLive(page: Page): Promise<void> {
  await expect(page.getByTestId("connection-status")).toHaveText("live");
}

export type ColorScheme = "light" | "dark";
type AxeViolation = Awaited<ReturnType<AxeBuilder["analyze"]>>["violations"][number];
type AxeNode = AxeViolation["nodes"][number];

/**
 * Shows every page of `page` in `scheme`: the emulated system preference, and the same explicit
 * choice stored where the theme toggle keeps it (components/shell/theme-toggle.tsx), which the
 * inline theme script applies before the first paint.
 */
export async function applyColorScheme(page: Page, scheme: ColorScheme): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await page.addInitScript((choice) => {
    try {
      localStorage.setItem("pipewatch-theme", choice);
    } catch {
      // A page without storage (about:blank) still follows the emulated preference.
    }
  }, scheme);
}

export async function expectColorScheme(page: Page, scheme: ColorScheme): Promise<void> {
  await expect(page.locator("html")).toHaveClass(scheme === "dark" ? /(^|\s)dark(\s|$)/ : /^(?!.*\bdark\b).*$/);
}

/** One node of a violation as a line a reader can act on: where, and for contrast, the colours. */
function describeNode(node: AxeNode): string {
  const contrast = [...node.any, ...node.all, ...node.none].find((check) => check.id === "color-contrast");
  const data = contrast?.data as
    | { fgColor?: string; bgColor?: string; contrastRatio?: number; expectedContrastRatio?: string; fontSize?: string; fontWeight?: string }
    | undefined;
  const colours = data?.fgColor
    ? ` ${data.fgColor} on ${data.bgColor}: ${data.contrastRatio}:1, needs ${data.expectedContrastRatio} (${data.fontSize} ${data.fontWeight})`
    : "";
  return `    ${node.target.join(" ")}${colours}\n      ${node.html.slice(0, 160)}`;
}

function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map((v) => `${v.id} [${v.impact}] ${v.help} — ${v.nodes.length} node(s)\n${v.nodes.map(describeNode).join("\n")}`)
    .join("\n");
}

/**
 * Runs axe (WCAG 2 A and AA rules) over the page as it is now and fails on any serious or critical
 * violation, listing each one's rule, targets and, for contrast, the colours and ratio found.
 * Call it once the page shows its content: axe checks what is rendered, not what will be.
 */
export async function expectNoSeriousA11yViolations(page: Page, label: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const nodes = serious.reduce((sum, v) => sum + v.nodes.length, 0);
  expect(nodes, `${label}: ${nodes} node(s) with serious or critical violations\n${describeViolations(serious)}`).toBe(0);
}

/** Errors a test announced as expected (e.g. the browser logging the 404 of a not-found page). */
const allowed = new WeakMap<string[], RegExp[]>();

export const test = base.extend<{ control: Control; consoleErrors: string[]; allowConsoleError: (pattern: RegExp) => void }>({
  control: async ({}, provide) => {
    await provide(controlClient());
  },
  allowConsoleError: async ({ consoleErrors }, provide) => {
    await provide((pattern) => allowed.set(consoleErrors, [...(allowed.get(consoleErrors) ?? []), pattern]));
  },
  consoleErrors: [
    async ({ page }, provide) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(`console: ${msg.text()} (${msg.location().url})`);
      });
      page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
      await provide(errors);
      const expected = allowed.get(errors) ?? [];
      expect(
        errors.filter((e) => !expected.some((p) => p.test(e))),
        "no console errors or page errors",
      ).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
