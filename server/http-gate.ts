/**
 * What every HTTP request passes before the API router or Next sees it: a request id (kept from `x-request-id` when
 * sane, else generated) echoed on the response, and, with a dashboard token, the auth gate —
 * pages redirect to /login, API routes answer 401 JSON, health and the login page stay open.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAuthorized, isPublicPath } from "./auth";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers["x-request-id"];
  const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
  req.headers["x-request-id"] = id;
  res.setHeader("x-request-id", id);
  return id;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** The request's URL (origin is a placeholder), or null when it cannot be parsed. */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? "/", "http://localhost");
  } catch {
    return null;
  }
}

/** True when the request may go on; otherwise the response has been sent. */
export function passAuthGate(req: IncomingMessage, res: ServerResponse, token: string | null, path: { pathname: string; search: string }): boolean {
  if (!token || isPublicPath(path.pathname) || isAuthorized(req.headers, token)) return true;
  if (path.pathname.startsWith("/api/") || path.pathname === "/api") {
    res.setHeader("www-authenticate", 'Bearer realm="pipewatch"');
    sendJson(res, 401, { error: "Unauthorized: send the dashboard token (Authorization: Bearer) or log in" });
    return false;
  }
  const next = encodeURIComponent(`${path.pathname}${path.search}`);
  res.writeHead(302, { location: `/login?next=${next}`, "cache-control": "no-store" });
  res.end();
  return false;
}
