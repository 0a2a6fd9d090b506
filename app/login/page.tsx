/**
 * The login form (DASHBOARD_TOKEN set). A plain HTML form posting to /api/auth/login, so it works
 * without JavaScript; the route sets the session cookie and sends the browser on to `next`.
 */
import type { Metadata } from "next";
import { safeNextPath } from "@/server/auth";

export const metadata: Metadata = { title: "Log in · Pipewatch" };
export const dynamic = "force-dynamic";

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const next = safeNextPath(typeof params.next === "string" ? params.next : "/");
  const failed = params.error === "invalid";
  return (
    <main className="flex min-h-screen items-center justify-center p-6">
      <form
        method="post"
        action="/api/auth/login"
        className="w-full max-w-sm space-y-4 rounded-lg border border-gray-300 p-6 dark:border-gray-700"
        aria-describedby={failed ? "login-error" : undefined}
      >
        <h1 className="text-xl font-semibold">Pipewatch</h1>
        <p className="text-sm text-muted">This dashboard needs its access token.</p>
        <input type="hidden" name="next" value={next} />
        <div className="space-y-1">
          <label htmlFor="token" className="block text-sm font-medium">
            Dashboard token
          </label>
          <input
            id="token"
            name="token"
            type="password"
            required
            autoFocus
            autoComplete="current-password"
            aria-invalid={failed || undefined}
            className="w-full rounded border border-gray-300 bg-transparent px-3 py-2 dark:border-gray-600"
          />
        </div>
        {failed && (
          <p id="login-error" role="alert" className="text-sm text-danger">
            That token is not valid.
          </p>
        )}
        <button
          type="submit"
          className="w-full rounded bg-blue-600 px-3 py-2 font-medium text-white hover:bg-blue-700 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2"
        >
          Log in
        </button>
      </form>
    </main>
  );
}
