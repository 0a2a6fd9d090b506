/**
 * POST /api/auth/login — the token in a JSON body ({ token }) or the login form. Sets the HttpOnly,
 * SameSite=Strict session cookie (an HMAC of the token). A script gets 204 / 401 JSON; the form
 * gets a 303 to its `next` page, or back to /login with an error.
 */
import { isValidToken, safeNextPath, sessionCookie } from "@/server/auth";
import { getRuntime } from "@/server/runtime";
import { ApiError, methodNotAllowed, withErrors } from "../../_lib/errors";
import { readBody } from "../../_lib/load";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const POST = withErrors(async (request: Request) => {
  const token = getRuntime().dashboardToken;
  if (!token) throw new ApiError(404, "Login is not enabled: DASHBOARD_TOKEN is not set");
  const isForm = (request.headers.get("content-type") ?? "").includes("application/x-www-form-urlencoded");
  const body = await readBody(request);
  const next = safeNextPath(body.next);
  if (!isValidToken(body.token, token)) {
    if (isForm) return redirect(`/login?error=invalid&next=${encodeURIComponent(next)}`);
    throw new ApiError(401, "token: invalid");
  }
  const secure = new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https";
  const cookie = sessionCookie(token, secure);
  if (isForm) return redirect(next, cookie);
  return new Response(null, { status: 204, headers: { "set-cookie": cookie, "cache-control": "no-store" } });
});

function redirect(location: string, cookie?: string): Response {
  const headers: Record<string, string> = { location, "cache-control": "no-store" };
  if (cookie) headers["set-cookie"] = cookie;
  return new Response(null, { status: 303, headers });
}

export { methodNotAllowed as GET, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
