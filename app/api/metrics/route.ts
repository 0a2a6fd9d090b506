/** GET /api/metrics?days= — PipelineMetrics over the last 1-90 UTC days (default 7). */
import { getRuntime } from "@/server/runtime";
import { jsonResponse, methodNotAllowed, withErrors } from "../_lib/errors";
import { metricsQuerySchema, parseQuery } from "../_lib/params";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withErrors(async (request: Request) => {
  const { days } = parseQuery(request, metricsQuerySchema);
  return jsonResponse(await getRuntime().tracking.getMetrics({ days }));
});

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
