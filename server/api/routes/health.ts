/** GET /api/health — open even with a dashboard token; 503 when the storage does not answer in time. */
import { json } from "../respond";
import type { ApiRoute } from "../router";

const CHECK_TIMEOUT_MS = 1_000;

export const healthRoute: ApiRoute = {
  path: "/api/health",
  methods: {
    GET: async ({ deps }) => {
      try {
        if (deps.checkStorage) await withTimeout(deps.checkStorage(), CHECK_TIMEOUT_MS);
      } catch (err) {
        const message = err instanceof Error ? err.message : "storage check failed";
        return json({ status: "unhealthy", storage: deps.storageKind, error: message.slice(0, 200) }, 503);
      }
      return json({
        status: "healthy",
        storage: deps.storageKind,
        uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
        activeRuns: deps.tracking.activeRunIds.length,
        auth: deps.dashboardToken ? "token" : "none",
      });
    },
  },
};

function withTimeout(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`storage did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}
