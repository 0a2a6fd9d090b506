/**
 * The API's side of the shared parameter schemas (server/params.ts, also used by the pages): a
 * refused parameter becomes a 400 whose message is the first issue's, naming the parameter.
 */
import type { z } from "zod";
import { checkPipelineId, checkQuery, type Checked } from "../params";
import { badRequest } from "./respond";

export { historyQuerySchema, listQuerySchema, metricsQuerySchema } from "../params";

/** Validates a query against `schema`; unknown parameters are ignored, a repeated one counts once. */
export function parseQuery<S extends z.ZodObject>(params: URLSearchParams, schema: S): z.output<S> {
  return orBadRequest(checkQuery(schema, params));
}

/** A raw (still percent-encoded) path segment as a pipeline id. */
export function parsePipelineId(segment: string): string {
  return orBadRequest(checkPipelineId(segment));
}

function orBadRequest<T>(checked: Checked<T>): T {
  if (checked.ok) return checked.value;
  throw badRequest(checked.issues[0]?.message ?? "invalid parameter");
}
