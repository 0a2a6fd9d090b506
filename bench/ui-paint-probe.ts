/**
 * What the paint benchmark installs in the page before any app script: it timestamps every
 * `pipeline:update` and `step:update` WebSocket message as the page receives it (before Socket.IO's
 * own listener), and every list row ("done/total", data-status) and detail step row (status) as it
 * changes, with the frame that paints the change.
 *
 * Which frame paints a change: a mutation made inside a requestAnimationFrame callback is painted by
 * that same frame; any other mutation by the next one. rAF callbacks are wrapped so their mutations
 * are taken synchronously (takeRecords) while we still know we are inside the frame. A task posted
 * during a frame's rAF phase runs after that frame's rendering: its time is the paint's upper bound.
 */

/** A row or step state that reached the screen: `raf` the frame's start, `after` the paint's upper bound. */
export interface Paint {
  kind: "row" | "step";
  id: string;
  /** Steps completed ("row"), or the step's name ("step"). */
  done: number;
  step: string;
  status: string;
  raf: number;
  after: number;
}

/** A live message as the page received it. */
export interface Arrival {
  kind: "row" | "step";
  id: string;
  done: number;
  step: string;
  status: string;
  t: number;
}

export interface ProbeWindow {
  __paints: Paint[];
  __arrivals: Arrival[];
  __navigatedAt: number;
}

/** Runs in the page (serialized by Playwright: no closures over this file). */
export function installPaintProbe(): void {
  const paints: Paint[] = [];
  const arrivals: Arrival[] = [];
  const last = new Map<string, string>();
  const now = () => performance.timeOrigin + performance.now();
  const probe = window as unknown as ProbeWindow;
  probe.__paints = paints;
  probe.__arrivals = arrivals;
  probe.__navigatedAt = performance.timeOrigin;
  const detailId = () => decodeURIComponent(/^\/pipelines\/([^/]+)/.exec(location.pathname)?.[1] ?? "");

  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener("message", (ev: MessageEvent) => {
        if (typeof ev.data !== "string") return;
        const isRow = ev.data.startsWith('42["pipeline:update"');
        if (!isRow && !ev.data.startsWith('42["step:update"')) return;
        const t = now();
        const [, payload] = JSON.parse(ev.data.slice(2)) as [string, Record<string, unknown>];
        if (isRow) {
          arrivals.push({
            kind: "row",
            id: String(payload.pipelineId),
            done: Number(payload.stepsCompleted),
            step: "",
            status: String(payload.status),
            t,
          });
        } else {
          const step = payload.step as { stepName: string; status: string };
          arrivals.push({ kind: "step", id: String(payload.pipelineId), done: 0, step: step.stepName, status: step.status, t });
        }
      });
    }
  };

  type Changed = Omit<Paint, "raf" | "after">;
  const afterRendering = (changed: Changed[], raf: number) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const after = now();
      for (const c of changed) paints.push({ ...c, raf, after });
    };
    channel.port2.postMessage(null);
  };
  const readRow = (row: Element): Changed | null => {
    const id = row.getAttribute("data-pipeline-id");
    const m = /(\d+)\/(\d+)/.exec(row.querySelector('[title*="steps completed"] span')?.textContent ?? "");
    if (!id || !m) return null;
    return { kind: "row", id, done: Number(m[1]), step: "", status: row.getAttribute("data-status") ?? "" };
  };
  const readStep = (row: Element): Changed | null => {
    const step = row.getAttribute("data-step-name");
    const status = row.querySelector("td:nth-child(2)")?.textContent?.trim() ?? "";
    if (!step || !status) return null;
    return { kind: "step", id: detailId(), done: 0, step, status };
  };
  const read = (rows: Set<Element>, inFrame: boolean) => {
    const changed: Changed[] = [];
    for (const row of rows) {
      const c = row.getAttribute("data-testid") === "step-row" ? readStep(row) : readRow(row);
      if (!c) continue;
      const key = `${c.kind}:${c.id}:${c.step}`;
      const value = `${c.done} ${c.status}`;
      if (last.get(key) === value) continue;
      last.set(key, value);
      changed.push(c);
    }
    if (changed.length === 0) return;
    if (inFrame) afterRendering(changed, now());
    else requestAnimationFrame(() => afterRendering(changed, now()));
  };
  const ROWS = '[data-testid="pipeline-row"], [data-testid="step-row"]';
  const rowsOf = (mutations: MutationRecord[]) => {
    const rows = new Set<Element>();
    for (const m of mutations) {
      const el = m.target instanceof Element ? m.target : m.target.parentElement;
      const row = el?.closest(ROWS);
      if (row) rows.add(row);
      for (const node of m.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.matches(ROWS)) rows.add(node);
        for (const r of node.querySelectorAll(ROWS)) rows.add(r);
      }
    }
    return rows;
  };
  const observer = new MutationObserver((mutations) => {
    const rows = rowsOf(mutations);
    if (rows.size) read(rows, false);
  });
  observer.observe(document, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ["data-status", "data-pipeline-id"],
  });
  const nativeRaf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (callback: FrameRequestCallback) =>
    nativeRaf((time) => {
      try {
        callback(time);
      } finally {
        const rows = rowsOf(observer.takeRecords());
        if (rows.size) read(rows, true);
      }
    });
}
