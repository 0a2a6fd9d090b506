/**
 * Dashboard auth (DASHBOARD_TOKEN). The session cookie holds its issue time and an HMAC
 * of that time keyed by the token, never the token itself, so a leaked cookie does not reveal the
 * token, a rotated token voids every session, and the server itself refuses a session older than
 * SESSION_MAX_AGE_S (a cookie's Max-Age is only the browser's promise). Every comparison runs on
 * fixed-length HMAC digests with `timingSafeEqual`, so neither the token's length nor its prefix
 * leaks through timing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

export const SESSION_COOKIE = "pipewatch_session";
const SESSION_CONTEXT = "pipewatch-session-v2";
const COMPARE_CONTEXT = "pipewatch-compare-v1";
export const DEFAULT_SESSION_MAX_AGE_S = 86_400;
/** A session issued this far in the future (clock skew between restarts) is still accepted. */
const FUTURE_SKEW_S = 60;

function hmac(key: string, message: string): Buffer {
  return createHmac("sha256", key).update(message).digest();
}

/** The cookie value for a session opened with `token` at `issuedAtMs`: "<issued s>.<mac>". */
export function sessionValue(token: string, issuedAtMs = Date.now()): string {
  const issued = Math.floor(issuedAtMs / 1000);
  return `${issued}.${sessionMac(token, issued)}`;
}

function sessionMac(token: string, issuedS: number): string {
  return hmac(token, `${SESSION_CONTEXT}|${issuedS}`).toString("base64url");
}

/** Constant-time equality of two strings of any length. */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(hmac(COMPARE_CONTEXT, a), hmac(COMPARE_CONTEXT, b));
}

/** A blank candidate never matches, whatever the configured token (config.ts refuses a blank one). */
export function isValidToken(candidate: unknown, token: string): boolean {
  return typeof candidate === "string" && candidate.trim().length > 0 && token.trim().length > 0 && safeEqual(candidate, token);
}

export interface SessionCheck {
  token: string;
  /** Oldest session accepted, in seconds since it was issued. */
  maxAgeS: number;
  now?: number;
}

/** True when the cookie was issued with this token, no longer than `maxAgeS` ago. */
export function isValidSession(cookieValue: string | undefined, { token, maxAgeS, now = Date.now() }: SessionCheck): boolean {
  if (typeof cookieValue !== "string") return false;
  const match = /^(\d{1,12})\.([A-Za-z0-9_-]{1,100})$/.exec(cookieValue);
  if (!match) return false;
  const issued = Number(match[1]);
  const macOk = safeEqual(match[2]!, sessionMac(token, issued));
  const ageS = now / 1000 - issued;
  return macOk && ageS <= maxAgeS && ageS >= -FUTURE_SKEW_S;
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
export function isAuthorized(headers: IncomingHttpHeaders, session: SessionCheck): boolean {
  const bearer = bearerToken(headers.authorization);
  if (bearer !== undefined && isValidToken(bearer, session.token)) return true;
  return isValidSession(readCookie(headers.cookie, SESSION_COOKIE), session);
}

export function sessionCookie(token: string, secure: boolean, maxAgeS = DEFAULT_SESSION_MAX_AGE_S): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict${secure ? "; Secure" : ""}; Max-Age=${maxAgeS}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** Paths reachable without a session: health, the login page and its assets, the auth endpoints. */
export function isPublicPath(pathname: string): boolean {
  return (
    pathname === "/api/health" ||
    pathname === "/login" ||
    pathname === "/api/auth/login" ||
    pathname === "/api/auth/logout" ||
    pathname.startsWith("/_next/static/") ||
    pathname === "/favicon.ico" ||
    pathname === "/robots.txt"
  );
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
