/**
 * Shared e2e helpers: a `page` that fails the test on any console error or uncaught page error,
 * and `control`, the harness's control endpoint (start runs, back-fill history, drop sockets).
 */
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
  };
}

/** A unique run id per call, so specs sharing one server never see each other's runs by accident. */
export function uniqueId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

export async function expectLive(page: Page): Promise<void> {
  await expect(page.getByTestId("connection-status")).toHaveText("live");
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
      expect(errors.filter((e) => !expected.some((p) => p.test(e))), "no console errors or page errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
