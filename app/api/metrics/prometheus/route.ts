/** GET /api/metrics/prometheus — Prometheus text format from the server process's registry. */
import { getRuntime } from "@/server/runtime";
import { ApiError, methodNotAllowed, withErrors } from "../../_lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withErrors(async () => {
  const registry = getRuntime().prometheus;
  if (!registry) throw new ApiError(503, "Prometheus metrics are not enabled in this process");
  return new Response(await registry.metrics(), {
    status: 200,
    headers: { "content-type": registry.contentType, "cache-control": "no-store" },
  });
});

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
