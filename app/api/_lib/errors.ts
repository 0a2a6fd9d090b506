/**
 * Every API error goes through `errorResponse`: `{ error }` JSON with the right status, never a
 * stack trace; anything unexpected is logged with the request id and answered as a bare 500.
 */
import { getRuntime } from "@/server/runtime";

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store", ...headers } });
}

export function errorResponse(err: unknown, request?: Request): Response {
  if (err instanceof ApiError) return jsonResponse({ error: err.message }, err.status);
  // By name, not instanceof: the storage that throws it was loaded by the server process, not
  // by Next's bundle, so its class is a different object from the one this module would import.
  if (err instanceof Error && err.name === "InvalidCursorError") return jsonResponse({ error: `cursor: ${err.message}` }, 400);
  const reqId = request?.headers.get("x-request-id") ?? undefined;
  try {
    getRuntime().logger?.error({ err, reqId }, "API request failed");
  } catch {
    console.error("API request failed", reqId, err);
  }
  return jsonResponse({ error: "Internal server error" }, 500);
}

type Handler<C> = (request: Request, context: C) => Promise<Response>;

/** Wraps a route handler so that whatever it throws becomes an `errorResponse`. */
export function withErrors<C>(handler: Handler<C>): Handler<C> {
  return async (request, context) => {
    try {
      return await handler(request, context);
    } catch (err) {
      return errorResponse(err, request);
    }
  };
}

/** For the methods a route does not implement: a JSON 405 instead of Next's empty one. */
export async function methodNotAllowed(request: Request): Promise<Response> {
  return jsonResponse({ error: `Method ${request.method} is not allowed here` }, 405);
}
