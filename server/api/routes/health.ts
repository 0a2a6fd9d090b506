/**
 * GET /api/health — open even with a dashboard token. It reads the storage through the same path
 * the list page does (one run, through the tracking manager), so a storage that answers PING but
 * refuses reads is reported, not hidden: 503 `{ status: "unhealthy", storage, error }` when that
 * read fails or takes longer than CHECK_TIMEOUT_MS.
 */
import type { PipelineTrackingManager } from "pipewatch";
import { json } from "../respond";
import type { ApiRoute } from "../router";

export const CHECK_TIMEOUT_MS = 1_000;

export type ChangeFeedState = "live" | "reconnecting" | "none";

export type HealthReport =
  | { status: "healthy"; storage: string; latencyMs: number; changeFeed: ChangeFeedState }
  | { status: "unhealthy"; storage: string; error: string; changeFeed: ChangeFeedState };

/** A storage that shares changes across processes exposes its feed's state (Redis and SQLite do). */
export function changeFeedState(storage: object): ChangeFeedState {
  const state = (storage as { changeFeedState?: unknown }).changeFeedState;
  return state === "live" || state === "reconnecting" ? state : "none";
}

/** One cheap read through the tracking manager, bounded by a timeout; never throws. */
export async function checkHealth(tracking: PipelineTrackingManager, timeoutMs = CHECK_TIMEOUT_MS): Promise<HealthReport> {
  const storage = tracking.storage.kind;
  const started = performance.now();
  try {
    await withTimeout(tracking.listPage({ limit: 1 }), timeoutMs);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      status: "unhealthy",
      storage,
      error: (message || "storage read failed").slice(0, 200),
      changeFeed: changeFeedState(tracking.storage),
    };
  }
  const latencyMs = Math.round((performance.now() - started) * 100) / 100;
  return { status: "healthy", storage, latencyMs, changeFeed: changeFeedState(tracking.storage) };
}

export const healthRoute: ApiRoute = {
  path: "/api/health",
  methods: {
    GET: async ({ deps }) => {
      const report = await checkHealth(deps.tracking);
      if (report.status === "unhealthy") return json(report, 503);
      return json({
        ...report,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
        activeRuns: deps.tracking.activeRunIds.length,
        auth: deps.dashboardToken ? "token" : "none",
      });
    },
  },
};

function withTimeout<T>(read: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`storage did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([read, timeout]).finally(() => clearTimeout(timer));
}
