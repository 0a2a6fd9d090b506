/** Any other /api/* path: a JSON 404, never Next's HTML page. */
import { jsonResponse } from "../_lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

function notFound(request: Request): Response {
  return jsonResponse({ error: `No API route ${new URL(request.url).pathname}` }, 404);
}

export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE, notFound as OPTIONS };
