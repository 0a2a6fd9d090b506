/** GET /api/health — open even with a dashboard token; 503 when the storage does not answer. */
import { getRuntime } from "@/server/runtime";
import { jsonResponse, methodNotAllowed } from "../_lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const CHECK_TIMEOUT_MS = 1_000;

export async function GET(): Promise<Response> {
  let storage = "unknown";
  try {
    const runtime = getRuntime();
    storage = runtime.storageKind;
    if (runtime.checkStorage) await withTimeout(runtime.checkStorage(), CHECK_TIMEOUT_MS);
    return jsonResponse({
      status: "healthy",
      storage,
      uptimeSeconds: Math.round((Date.now() - runtime.startedAt.getTime()) / 1000),
      activeRuns: runtime.tracking.activeRunIds.length,
      auth: runtime.dashboardToken ? "token" : "none",
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : "storage check failed";
    return jsonResponse({ status: "unhealthy", storage, error: message.slice(0, 200) }, 503);
  }
}

function withTimeout(check: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`storage did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([check, timeout]).finally(() => clearTimeout(timer));
}

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
