/** GET /api/pipelines?status=&q=&limit=&cursor= — a page of summaries, newest first, plus counts by status. */
import { getRuntime } from "@/server/runtime";
import { jsonResponse, methodNotAllowed, withErrors } from "../_lib/errors";
import { listQuerySchema, parseQuery } from "../_lib/params";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withErrors(async (request: Request) => {
  const query = parseQuery(request, listQuerySchema);
  const { tracking } = getRuntime();
  const [page, counts] = await Promise.all([tracking.listPage(query), tracking.countByStatus()]);
  return jsonResponse({ items: page.items, nextCursor: page.nextCursor, counts });
});

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
