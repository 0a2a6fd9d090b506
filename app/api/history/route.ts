/** GET /api/history?limit=&since= — summaries newest first. */
import { summarize } from "@/lib/tracking/models";
import { getRuntime } from "@/server/runtime";
import { jsonResponse, methodNotAllowed, withErrors } from "../_lib/errors";
import { historyQuerySchema, parseQuery } from "../_lib/params";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withErrors(async (request: Request) => {
  const query = parseQuery(request, historyQuerySchema);
  const runs = await getRuntime().tracking.getHistory(query);
  return jsonResponse({ items: runs.map(summarize) });
});

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
