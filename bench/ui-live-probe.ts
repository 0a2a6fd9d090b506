/** The live-list benchmark's probe inside the page: long tasks, frames, update arrivals and paints, and reading them back per phase. */
import type { Page } from "@playwright/test";

interface Probe {
  longTasks: { start: number; duration: number }[];
  frames: number[];
  arrivals: Map<string, { t: number; run: string }>;
  painted: { seq: string; arrival: number; commit: number; paint: number }[];
  reset(): void;
}

/** Runs in the page before any app script (serialized by Playwright: no closures over this file). */
export function installProbe(): void {
  const probe: Probe = {
    longTasks: [],
    frames: [],
    arrivals: new Map(),
    painted: [],
    reset() {
      this.longTasks = [];
      this.frames = [];
      this.arrivals = new Map();
      this.painted = [];
    },
  };
  (window as unknown as { __probe: Probe }).__probe = probe;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
  const tick = (t: number) => {
    probe.frames.push(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);

  const pendingByRun = new Map<string, string[]>();
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (ev: MessageEvent) => {
        if (typeof ev.data !== "string" || !ev.data.startsWith('42["pipeline:update"')) return;
        const seq = /"currentStep":"bench-u(\d+)"/.exec(ev.data)?.[1];
        const run = /"pipelineId":"([^"]+)"/.exec(ev.data)?.[1];
        if (!seq || !run) return;
        probe.arrivals.set(seq, { t: performance.now(), run });
        pendingByRun.set(run, [...(pendingByRun.get(run) ?? []), seq]);
      });
    }
  };

  const onCommit = (rows: Set<Element>) => {
    const commit = performance.now();
    const done: { seq: string; arrival: number }[] = [];
    for (const row of rows) {
      const run = row.getAttribute("data-pipeline-id");
      const shown = /bench-u(\d+)/.exec(row.textContent ?? "")?.[1];
      if (!run || !shown) continue;
      const pending = pendingByRun.get(run) ?? [];
      const left: string[] = [];
      for (const seq of pending) {
        const arrival = probe.arrivals.get(seq);
        if (arrival && Number(seq) <= Number(shown)) done.push({ seq, arrival: arrival.t });
        else left.push(seq);
      }
      pendingByRun.set(run, left);
    }
    if (done.length === 0) return;
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const paint = performance.now();
      for (const d of done) probe.painted.push({ ...d, commit, paint });
    };
    channel.port2.postMessage(null);
  };
  new MutationObserver((mutations) => {
    const rows = new Set<Element>();
    for (const m of mutations) {
      const el = m.target instanceof Element ? m.target : m.target.parentElement;
      const row = el?.closest("[data-pipeline-id]");
      if (row) rows.add(row);
      for (const node of m.addedNodes) if (node instanceof Element && node.matches("[data-pipeline-id]")) rows.add(node);
    }
    if (rows.size) onCommit(rows);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

export interface PhaseResult {
  longTasks: { start: number; duration: number }[];
  painted: { seq: string; arrival: number; commit: number; paint: number }[];
  frames: number[];
  arrivals: number;
  seconds: number;
}

export async function collect(page: Page, seconds: number): Promise<PhaseResult> {
  return page.evaluate((secs) => {
    const p = (window as unknown as { __probe: Probe }).__probe;
    return { longTasks: p.longTasks, painted: p.painted, frames: p.frames, arrivals: p.arrivals.size, seconds: secs };
  }, seconds);
}

export const resetProbe = (page: Page) => page.evaluate(() => (window as unknown as { __probe: Probe }).__probe.reset());
