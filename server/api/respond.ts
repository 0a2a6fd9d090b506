/**
 * How the API answers: a handler returns a `Reply` and the router writes it; every error becomes
 * `{ error }` JSON through `errorReply`, never a stack trace. Written straight to node's response
 * (no web Request/Response objects) because that wrapping was most of a request's cost; gzipped
 * (synchronously, level 1) when the client accepts it and the body is over 1 KiB.
 */
import type { ServerResponse } from "node:http";
import { gzipSync } from "node:zlib";
import type { Logger } from "pino";

export interface Reply {
  status: number;
  /** Serialised as JSON; absent → an empty body (204, 303). */
  json?: unknown;
  /** A non-JSON body (Prometheus text); `headers` then carries its content-type. */
  text?: string;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  /** `headers` go out with the error reply (e.g. `connection: close` after an unread body). */
  constructor(
    readonly status: number,
    message: string,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notFound = (message: string): ApiError => new ApiError(404, message);

export const json = (body: unknown, status = 200): Reply => ({ status, json: body });

/**
 * The one error function: a client error keeps its message; an unreachable storage is a 503 the
 * dashboard can retry; anything else is logged and a bare 500.
 */
export function errorReply(err: unknown, logger: Logger, requestId: string): Reply {
  if (err instanceof ApiError) return { ...json({ error: err.message }, err.status), headers: err.headers };
  // By name: a custom storage may throw its own copy of the class.
  if (err instanceof Error && err.name === "InvalidCursorError") return json({ error: `cursor: ${err.message}` }, 400);
  if (isStorageUnavailable(err)) {
    logger.warn({ err: err.message, reqId: requestId }, "API request failed: storage unavailable");
    return { ...json({ error: `Storage unavailable: ${err.message.slice(0, 200)}` }, 503), headers: { "retry-after": "2" } };
  }
  logger.error({ err, reqId: requestId }, "API request failed");
  return json({ error: "Internal server error" }, 500);
}

/** ioredis's own connection errors, recognised until every storage read throws StorageUnavailableError. */
const CONNECTION_ERROR_NAMES = new Set(["StorageUnavailableError", "MaxRetriesPerRequestError"]);
const CONNECTION_ERROR_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EPIPE"]);
const CONNECTION_ERROR_MESSAGE = /^(Connection is closed|Stream isn't writeable|Command timed out)/;

/**
 * True when the storage could not be reached (as opposed to a bug). Matched by name and code, not
 * `instanceof`: the class lives in lib/, which Next's bundle and the server's bundle each hold a copy of.
 */
export function isStorageUnavailable(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  if (CONNECTION_ERROR_NAMES.has(err.name)) return true;
  const code = (err as NodeJS.ErrnoException).code;
  return (typeof code === "string" && CONNECTION_ERROR_CODES.has(code)) || CONNECTION_ERROR_MESSAGE.test(err.message);
}

/** Bodies below this go out as they are: gzip's header and a deflate block would save nothing. */
const COMPRESS_MIN_BYTES = 1_024;
/** Level 1 on a 15 KB list page: ~0.1 ms and ~6x smaller; higher levels cost more for a few % less. */
const GZIP_LEVEL = 1;

/** `acceptEncoding`: the request's Accept-Encoding; a body over 1 KiB is gzipped when it allows. */
export function sendReply(res: ServerResponse, reply: Reply, acceptEncoding?: string): void {
  const text = reply.json !== undefined ? JSON.stringify(reply.json) : reply.text;
  const headers: Record<string, string | number> = { "cache-control": "no-store", ...reply.headers };
  let body: string | Buffer | undefined = text;
  if (text !== undefined) {
    if (reply.json !== undefined) headers["content-type"] = "application/json; charset=utf-8";
    if (text.length >= COMPRESS_MIN_BYTES) {
      headers.vary = "accept-encoding";
      if (acceptsGzip(acceptEncoding)) {
        body = gzipSync(text, { level: GZIP_LEVEL });
        headers["content-encoding"] = "gzip";
      }
    }
    headers["content-length"] = Buffer.byteLength(body!);
  }
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** True when Accept-Encoding lists gzip (or `*`) with a non-zero quality. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let wildcard = false;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (name === "gzip" || name === "x-gzip") return accepted;
    if (name === "*") wildcard = accepted;
  }
  return wildcard;
}
