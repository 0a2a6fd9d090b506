/**
 * Every query and path parameter the dashboard accepts, one zod schema each, shared by the API
 * routes (a bad value is a 400) and the pages (a bad value is a message with a link to the
 * corrected view), so both accept the same values and explain a refusal in the same words. Each
 * message starts with its parameter's name. An empty value (`?status=`) counts as absent; a
 * repeated parameter counts once, by its first value. Only zod and lib/ here: pages import it.
 */
import { z } from "zod";
import { PIPELINE_ID_PATTERN, STATUSES } from "../lib/tracking/models";

const integer = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, `${name} must be an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be an integer from ${min} to ${max}`);

const SINCE_MESSAGE = "since must be an ISO-8601 date or date-time";
const ID_MESSAGE = "id must be 1-200 characters of [A-Za-z0-9._:-]";

export const statusParam = z.enum(STATUSES, { error: `status must be one of ${STATUSES.join(", ")}` });
export const qParam = z.string().max(200, "q must be at most 200 characters");
export const limitParam = integer("limit", 1, 500);
export const cursorParam = z.string().max(600, "cursor is too long");
export const daysParam = integer("days", 1, 90);
export const sinceParam = z
  .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: SINCE_MESSAGE })
  .transform((s) => new Date(s))
  .refine((d) => !Number.isNaN(d.getTime()), SINCE_MESSAGE);
export const pipelineIdParam = z.string().regex(PIPELINE_ID_PATTERN, ID_MESSAGE);

/** GET /api/pipelines. */
export const listQuerySchema = z.object({
  status: statusParam.optional(),
  q: qParam.optional(),
  limit: limitParam.default(50),
  cursor: cursorParam.optional(),
});

/** The runs list page: the list's filters (its page size is its own, and it starts at the top). */
export const listPageQuerySchema = listQuerySchema.pick({ status: true, q: true });

/** GET /api/history. */
export const historyQuerySchema = z.object({
  limit: limitParam.default(100),
  since: sinceParam.optional(),
});

/** GET /api/metrics and the metrics page. */
export const metricsQuerySchema = z.object({
  days: daysParam.default(7),
});

/** A refused parameter: its name and why, in the words the API's 400 uses. */
export interface ParamIssue {
  param: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: ParamIssue[] };

/** A query as the API sees it (`URLSearchParams`) or as a page receives it (`searchParams`). */
export type RawQuery = URLSearchParams | Record<string, string | string[] | undefined>;

/** Checks a query against `schema`; unknown parameters are ignored. Issues come one per parameter. */
export function checkQuery<S extends z.ZodObject>(schema: S, query: RawQuery): Checked<z.output<S>> {
  const raw = readQuery(schema, query);
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues: ParamIssue[] = [];
  for (const issue of parsed.error.issues) {
    const name = issue.path[0];
    const param = typeof name === "string" ? name : "query";
    if (issues.some((i) => i.param === param)) continue;
    // Our messages name their parameter; zod's own (e.g. a wrong type) get the name prefixed.
    const named = typeof name !== "string" || issue.message.startsWith(name);
    issues.push({ param, message: named ? issue.message : `${param}: ${issue.message}` });
  }
  return { ok: false, issues };
}

/** A raw (still percent-encoded) path segment as a pipeline id. */
export function checkPipelineId(segment: string): Checked<string> {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    return { ok: false, issues: [{ param: "id", message: ID_MESSAGE }] };
  }
  const parsed = pipelineIdParam.safeParse(id);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, issues: [{ param: "id", message: ID_MESSAGE }] };
}

/**
 * The query a refused one most likely meant: each refused parameter set to its default, or left
 * out when it has none; the accepted ones kept as written; unknown ones dropped.
 */
export function correctedQuery(schema: z.ZodObject, query: RawQuery, issues: ParamIssue[]): URLSearchParams {
  const raw = readQuery(schema, query);
  const refused = new Set(issues.map((i) => i.param));
  const corrected = new URLSearchParams();
  for (const [key, field] of Object.entries(schema.shape)) {
    if (!refused.has(key)) {
      if (raw[key] !== undefined) corrected.set(key, raw[key]);
      continue;
    }
    const fallback = (field as z.ZodType).safeParse(undefined);
    if (fallback.success && fallback.data !== undefined) corrected.set(key, String(fallback.data));
  }
  return corrected;
}

function readQuery(schema: z.ZodObject, query: RawQuery): Record<string, string> {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = query instanceof URLSearchParams ? query.get(key) : first(query[key]);
    if (value !== null && value !== undefined && value !== "") raw[key] = value;
  }
  return raw;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
