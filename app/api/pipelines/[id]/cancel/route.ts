/** POST /api/pipelines/{id}/cancel — 202 with the cancelled status; 404 unknown; 409 already finished. */
import { serializeStatus } from "@/lib/tracking/models";
import { getRuntime } from "@/server/runtime";
import { ApiError, jsonResponse, methodNotAllowed, notFound, withErrors } from "../../../_lib/errors";
import { pipelineIdFrom, readBody, type IdContext } from "../../../_lib/load";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = withErrors(async (request: Request, context: IdContext) => {
  const id = await pipelineIdFrom(context);
  await readBody(request); // no fields; read so that a malformed body is a 400, not ignored
  const outcome = await getRuntime().tracking.cancel(id);
  if (!outcome) throw notFound(`Pipeline "${id}" not found`);
  if (!outcome.cancelled) throw new ApiError(409, `Pipeline "${id}" already finished (${outcome.status.status})`);
  return jsonResponse(serializeStatus(outcome.status), 202);
});

export { methodNotAllowed as GET, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
