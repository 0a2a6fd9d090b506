/**
 * Query and path parameters of the API (contract §3), validated with zod. The schemas are built
 * once at load. A failure becomes a 400 whose message starts with the parameter's name. An empty
 * value (`?status=`) counts as absent.
 */
import { z } from "zod";
import { STATUSES, PIPELINE_ID_PATTERN } from "../../lib/tracking/models";
import { badRequest } from "./respond";

const integer = (name: string, min: number, max: number) =>
  z.string()
    .regex(/^\d{1,10}$/, `${name} must be an integer from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be an integer from ${min} to ${max}`);

const isoDate = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: "since must be an ISO-8601 date or date-time" })
  .transform((s) => new Date(s))
  .refine((d) => !Number.isNaN(d.getTime()), "since must be an ISO-8601 date or date-time");

const ID_MESSAGE = "id must be 1-200 characters of [A-Za-z0-9._:-]";
export const pipelineIdSchema = z.string().regex(PIPELINE_ID_PATTERN, ID_MESSAGE);

export const listQuerySchema = z.object({
  status: z.enum(STATUSES, { error: `status must be one of ${STATUSES.join(", ")}` }).optional(),
  q: z.string().max(200, "q must be at most 200 characters").optional(),
  limit: integer("limit", 1, 500).default(50),
  cursor: z.string().max(600, "cursor is too long").optional(),
});

export const historyQuerySchema = z.object({
  limit: integer("limit", 1, 500).default(100),
  since: isoDate.optional(),
});

export const metricsQuerySchema = z.object({
  days: integer("days", 1, 90).default(7),
});

/** Validates a query against `schema`; unknown parameters are ignored, a repeated one counts once. */
export function parseQuery<S extends z.ZodObject>(params: URLSearchParams, schema: S): z.output<S> {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = params.get(key);
    if (value !== null && value !== "") raw[key] = value;
  }
  return parseWith(schema, raw);
}

/** A raw (still percent-encoded) path segment as a pipeline id. */
export function parsePipelineId(segment: string): string {
  let id: string;
  try {
    id = decodeURIComponent(segment);
  } catch {
    throw badRequest(ID_MESSAGE);
  }
  return parseWith(pipelineIdSchema, id);
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue?.path[0];
  const message = issue?.message ?? "invalid parameter";
  // Messages name their parameter; zod's own (e.g. a wrong type) get the name prefixed.
  throw badRequest(typeof name === "string" && !message.startsWith(name) ? `${name}: ${message}` : message);
}
