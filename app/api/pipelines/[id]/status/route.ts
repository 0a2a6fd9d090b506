/** GET /api/pipelines/{id}/status — the same PipelineStatus as /api/pipelines/{id} (the guide's path). */
import { serializeStatus } from "@/lib/tracking/models";
import { jsonResponse, methodNotAllowed, withErrors } from "../../../_lib/errors";
import { loadPipeline, pipelineIdFrom, type IdContext } from "../../../_lib/load";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withErrors(async (_request: Request, context: IdContext) => {
  const status = await loadPipeline(await pipelineIdFrom(context));
  return jsonResponse(serializeStatus(status));
});

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
