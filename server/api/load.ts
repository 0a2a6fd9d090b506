/** Load-or-404 for the routes under /api/pipelines/{id}, and the request body reader they share. */
import type { IncomingMessage } from "node:http";
import type { PipelineTrackingManager, PipelineStatus } from "pipewatch";
import { ApiError, badRequest, notFound } from "./respond";

export async function loadPipeline(tracking: PipelineTrackingManager, id: string): Promise<PipelineStatus> {
  const status = await tracking.getStatus(id);
  if (!status) throw notFound(`Pipeline "${id}" not found`);
  return status;
}

/** The API's own bodies are small JSON objects or forms: far below MAX_BODY_BYTES. */
const MAX_BODY_BYTES = 16 * 1024;
// The rest of an oversized body is never read, so the connection cannot carry another request.
const tooLarge = () => new ApiError(413, "body: larger than 16 KiB", { connection: "close" });

/**
 * The request body as an object: JSON or an HTML form; empty → {}. Malformed JSON is a 400 and an
 * oversized body a 413, so nothing a client sends can turn into a 500. Reading stops at the limit.
 */
export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  const text = await readText(req);
  if (text.trim() === "") return {};
  if (isFormPost(req)) return Object.fromEntries(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest("body: malformed JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw badRequest("body: must be a JSON object");
  return parsed as Record<string, unknown>;
}

/** Not `for await`: leaving that loop early destroys the socket, and the 400 could not be sent. */
function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off("data", onData);
      req.pause();
      reject(tooLarge());
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
    req.once("close", () => reject(badRequest("body: the request was aborted")));
  });
}

export function isFormPost(req: IncomingMessage): boolean {
  return (req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded");
}
