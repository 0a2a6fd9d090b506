/** GET /api/pipelines/{id} — the full status with step results; DELETE — 204, or 404 when unknown. */
import { serializeStatus } from "@/lib/tracking/models";
import { getRuntime } from "@/server/runtime";
import { jsonResponse, methodNotAllowed, notFound, withErrors } from "../../_lib/errors";
import { loadPipeline, pipelineIdFrom, type IdContext } from "../../_lib/load";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const GET = withErrors(async (_request: Request, context: IdContext) => {
  const status = await loadPipeline(await pipelineIdFrom(context));
  return jsonResponse(serializeStatus(status));
});

export const DELETE = withErrors(async (_request: Request, context: IdContext) => {
  const id = await pipelineIdFrom(context);
  if (!(await getRuntime().tracking.deletePipeline(id))) throw notFound(`Pipeline "${id}" not found`);
  return new Response(null, { status: 204 });
});

export { methodNotAllowed as POST, methodNotAllowed as PUT, methodNotAllowed as PATCH };
