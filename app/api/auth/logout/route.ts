/** POST /api/auth/logout — clears the session cookie; a form post is sent back to /login. */
import { clearedSessionCookie } from "@/server/auth";
import { methodNotAllowed } from "../../_lib/errors";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request: Request): Promise<Response> {
  const isForm = (request.headers.get("content-type") ?? "").includes("application/x-www-form-urlencoded");
  const headers: Record<string, string> = { "set-cookie": clearedSessionCookie(), "cache-control": "no-store" };
  if (isForm) return new Response(null, { status: 303, headers: { ...headers, location: "/login" } });
  return new Response(null, { status: 204, headers });
}

export { methodNotAllowed as GET, methodNotAllowed as PUT, methodNotAllowed as PATCH, methodNotAllowed as DELETE };
