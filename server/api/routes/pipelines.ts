/**
 * /api/pipelines and /api/pipelines/{id}[/status|/cancel] (docs/api.md): the list page with counts,
 * a run's full status, delete, cancel.
 */
import { serializeStatus } from "pipewatch";
import { loadPipeline, readBody } from "../load";
import { listQuerySchema, parsePipelineId, parseQuery } from "../params";
import { ApiError, json, notFound } from "../respond";
import type { ApiHandler, ApiRoute } from "../router";

/** A page of summaries, newest first, plus counts by status (both read at once). */
const list: ApiHandler = async ({ query, deps: { tracking } }) => {
  const pageQuery = parseQuery(query, listQuerySchema);
  const [page, counts] = await Promise.all([tracking.listPage(pageQuery), tracking.countByStatus()]);
  return json({ items: page.items, nextCursor: page.nextCursor, counts });
};

/** The full status with step results; `/status` is another name for the same thing. */
const detail: ApiHandler = async ({ params, deps: { tracking } }) =>
  json(serializeStatus(await loadPipeline(tracking, parsePipelineId(params.id ?? ""))));

const remove: ApiHandler = async ({ params, deps: { tracking } }) => {
  const id = parsePipelineId(params.id ?? "");
  if (!(await tracking.deletePipeline(id))) throw notFound(`Pipeline "${id}" not found`);
  return { status: 204 };
};

/** 202 with the cancelled status; 404 unknown; 409 already finished. */
const cancel: ApiHandler = async ({ req, params, deps: { tracking } }) => {
  const id = parsePipelineId(params.id ?? "");
  await readBody(req); // no fields; read so that a malformed body is a 400, not ignored
  const outcome = await tracking.cancel(id);
  if (!outcome) throw notFound(`Pipeline "${id}" not found`);
  if (!outcome.cancelled) throw new ApiError(409, `Pipeline "${id}" already finished (${outcome.status.status})`);
  return json(serializeStatus(outcome.status), 202);
};

export const pipelineRoutes: ApiRoute[] = [
  { path: "/api/pipelines", methods: { GET: list } },
  { path: "/api/pipelines/:id", methods: { GET: detail, DELETE: remove } },
  { path: "/api/pipelines/:id/status", methods: { GET: detail } },
  { path: "/api/pipelines/:id/cancel", methods: { POST: cancel } },
];
