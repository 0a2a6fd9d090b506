/**
 * POST /api/auth/login — the token in a JSON body ({ token }) or the login form; sets the HttpOnly,
 * SameSite=Strict session cookie (its issue time, signed with the token). A script gets 204 / 401
 * JSON; the form gets a 303 to its `next` page, or back to /login with an error. Ten failures a
 * minute from one address, and that address gets 429 with Retry-After until the minute has passed.
 * POST /api/auth/logout — clears the cookie; a form post is sent back to /login.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { clearedSessionCookie, isValidToken, safeNextPath, sessionCookie } from "../../auth";
import { clientAddress } from "../../limits";
import { isFormPost, readBody } from "../load";
import { ApiError, type Reply } from "../respond";
import type { ApiRoute } from "../router";

const redirect = (location: string, cookie: string): Reply => ({ status: 303, headers: { location, "set-cookie": cookie } });

const isHttps = (req: IncomingMessage): boolean =>
  (req.socket as Partial<TLSSocket>).encrypted === true || req.headers["x-forwarded-proto"] === "https";

export const authRoutes: ApiRoute[] = [
  {
    path: "/api/auth/login",
    methods: {
      POST: async ({ req, deps: { dashboardToken: token, loginThrottle, limits } }) => {
        if (!token) throw new ApiError(404, "Login is not enabled: DASHBOARD_TOKEN is not set");
        const address = clientAddress(req.socket);
        const retryAfterS = loginThrottle.retryAfterS(address);
        if (retryAfterS > 0) {
          throw new ApiError(429, `Too many failed logins from this address: try again in ${retryAfterS} s`, {
            "retry-after": String(retryAfterS),
          });
        }
        const body = await readBody(req);
        const next = safeNextPath(body.next);
        if (!isValidToken(body.token, token)) {
          loginThrottle.fail(address);
          if (isFormPost(req)) return { status: 303, headers: { location: `/login?error=invalid&next=${encodeURIComponent(next)}` } };
          throw new ApiError(401, "token: invalid");
        }
        const cookie = sessionCookie(token, isHttps(req), limits.sessionMaxAgeS);
        return isFormPost(req) ? redirect(next, cookie) : { status: 204, headers: { "set-cookie": cookie } };
      },
    },
  },
  {
    path: "/api/auth/logout",
    methods: {
      POST: async ({ req }) =>
        isFormPost(req) ? redirect("/login", clearedSessionCookie()) : { status: 204, headers: { "set-cookie": clearedSessionCookie() } },
    },
  },
];
