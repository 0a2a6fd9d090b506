/**
 * Dashboard auth (contract §6, DASHBOARD_TOKEN). The session cookie holds an HMAC of the token, never
 * the token itself, so a leaked cookie does not reveal the token and a rotated token voids every
 * session. Every comparison runs on fixed-length HMAC digests with `timingSafeEqual`, so neither
 * the token's length nor its prefix leaks through timing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const SESSION_COOKIE = "pipewatch_session";
const SESSION_CONTEXT = "pipewatch-session-v1";
const COMPARE_CONTEXT = "pipewatch-compare-v1";

function hmac(key: string, message: string): Buffer {
  return createHmac("sha256", key).update(message).digest();
}

/** The cookie value for a session opened with `token`. */
export function sessionValue(token: string): string {
  return hmac(token, SESSION_CONTEXT).toString("base64url");
}

/** Constant-time equality of two strings of any length. */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(hmac(COMPARE_CONTEXT, a), hmac(COMPARE_CONTEXT, b));
}

export function isValidToken(candidate: unknown, token: string): boolean {
  return typeof candidate === "string" && candidate.length > 0 && safeEqual(candidate, token);
}

export function isValidSession(cookieValue: string | undefined, token: string): boolean {
  return typeof cookieValue === "string" && cookieValue.length > 0 && safeEqual(cookieValue, sessionValue(token));
}

/** Reads one cookie from a Cookie header; undefined when absent or malformed. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  return match?.[1];
}

/** True when the request carries the token as a Bearer header or a valid session cookie. */
export function isAuthorized(headers: IncomingHttpHeaders, token: string): boolean {
  const bearer = bearerToken(headers.authorization);
  if (bearer !== undefined && isValidToken(bearer, token)) return true;
  return isValidSession(readCookie(headers.cookie, SESSION_COOKIE), token);
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}; Max-Age=2592000`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** Paths reachable without a session: health, the login page and its assets, the auth endpoints. */
export function isPublicPath(pathname: string): boolean {
  return pathname === "/api/health"
    || pathname === "/login"
    || pathname === "/api/auth/login"
    || pathname === "/api/auth/logout"
    || pathname.startsWith("/_next/static/")
    || pathname === "/favicon.ico"
    || pathname === "/robots.txt";
}

/** A same-site path to return to after login; anything else (another origin, `//x`) becomes "/". */
export function safeNextPath(next: unknown): string {
  if (typeof next !== "string" || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next.length > 2000 ? "/" : next;
}

/**
 * Origin check for the Socket.IO handshake: a browser's Origin must be this host or an allowed
 * origin; a client that sends none (not a browser, so not a cross-site page) passes on to the token check.
 */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined, allowedOrigins: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowedOrigins.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
