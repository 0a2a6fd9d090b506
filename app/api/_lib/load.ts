/** Load-or-404 for the routes under /api/pipelines/{id}, and the request body reader they share. */
import type { PipelineStatus } from "@/lib/tracking/models";
import { getRuntime } from "@/server/runtime";
import { badRequest, notFound } from "./errors";
import { parsePipelineId } from "./params";

export type IdContext = { params: Promise<{ id: string }> };

export async function pipelineIdFrom(context: IdContext): Promise<string> {
  const { id } = await context.params;
  return parsePipelineId(id);
}

export async function loadPipeline(id: string): Promise<PipelineStatus> {
  const status = await getRuntime().tracking.getStatus(id);
  if (!status) throw notFound(`Pipeline "${id}" not found`);
  return status;
}

const MAX_BODY_BYTES = 16 * 1024;

/**
 * The request body as an object: JSON or an HTML form; empty → {}. Malformed JSON or an oversized
 * body is a 400, so nothing a client sends can turn into a 500.
 */
export async function readBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.length > MAX_BODY_BYTES) throw badRequest("body: larger than 16 KiB");
  if (text.trim() === "") return {};
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) return Object.fromEntries(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("body: malformed JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw badRequest("body: must be a JSON object");
  return parsed as Record<string, unknown>;
}
