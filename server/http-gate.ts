/**
 * What every HTTP request passes before the API router or Next sees it: a request id (kept from `x-request-id` when
 * sane, else generated) echoed on the response; a path whose percent-encoding is malformed is a
 * 400 (Next answered it with a 500); without a dashboard token, the DNS-rebinding Host check; with
 * one, the auth gate — pages redirect to /login, API routes answer 401 JSON, health and the login
 * page stay open.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { bearerToken, isAuthorized, isPublicPath, isValidToken, type SessionCheck } from "./auth";
import { clientAddress } from "./limits";
import type { LoginThrottle } from "./login-throttle";
import type { HostCheck } from "./host-check";

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
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
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

export function isApiPath(pathname: string): boolean {
  return pathname.startsWith("/api/") || pathname === "/api";
}

/**
 * True when the path decodes; otherwise a 400 text has been sent (Next answered a 500). API paths
 * pass: the router answers them in JSON, naming the parameter (`id: …`) that does not decode.
 */
export function passPathCheck(res: ServerResponse, pathname: string): boolean {
  if (isApiPath(pathname)) return true;
  try {
    decodeURI(pathname);
    return true;
  } catch {
    sendText(res, 400, "400 Bad Request\n\nMalformed URL: the path has an invalid percent-encoding.\n");
    return false;
  }
}

/**
 * True when the request's Host may be served (server/host-check.ts; health stays open for probes
 * that address the container by its own name); otherwise a 403 has been sent.
 */
export function passHostCheck(req: IncomingMessage, res: ServerResponse, check: HostCheck | null, pathname: string): boolean {
  if (!check || pathname === "/api/health" || check(req.headers.host)) return true;
  // JSON for pages too: a browser only gets here through a foreign name (set ALLOWED_ORIGINS for a real one).
  sendJson(res, 403, { error: "Host not allowed" });
  return false;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/**
 * True when the request may go on; otherwise the response has been sent. A Bearer token is a guess
 * like a login: a wrong one counts against the address's failed logins, and a throttled address's
 * Bearer requests get 429 before their token is even compared.
 */
export function passAuthGate(
  req: IncomingMessage,
  res: ServerResponse,
  session: SessionCheck | null,
  path: { pathname: string; search: string },
  throttle: LoginThrottle,
): boolean {
  if (!session || isPublicPath(path.pathname)) return true;
  const bearer = bearerToken(req.headers.authorization);
  if (bearer !== undefined) {
    const address = clientAddress(req.socket);
    const retryAfterS = throttle.retryAfterS(address);
    if (retryAfterS > 0) {
      res.setHeader("retry-after", String(retryAfterS));
      sendJson(res, 429, { error: `Too many failed logins from this address: try again in ${retryAfterS} s` });
      return false;
    }
    if (isValidToken(bearer, session.token)) return true;
    throttle.fail(address);
  }
  if (isAuthorized({ cookie: req.headers.cookie }, session)) return true;
  if (isApiPath(path.pathname)) {
    res.setHeader("www-authenticate", 'Bearer realm="pipewatch"');
    sendJson(res, 401, { error: "Unauthorized: send the dashboard token (Authorization: Bearer) or log in" });
    return false;
  }
  const next = encodeURIComponent(`${path.pathname}${path.search}`);
  res.writeHead(302, { location: `/login?next=${next}`, "cache-control": "no-store" });
  res.end();
  return false;
}
