import Link from "next/link";
import type { ParamIssue } from "@/server/params";

/**
 * A page's answer to a parameter it refuses: which one and why, in the API's words, and a link to
 * the view it most likely meant. A bad value is never swapped for a default behind the user's back.
 */
export function ParamError({ issues, correctedHref }: { issues: ParamIssue[]; correctedHref: string }) {
  return (
    <div role="alert" className="card mx-auto mt-10 max-w-lg p-6" data-testid="param-error">
      <h1 className="text-lg font-semibold">This address has {issues.length === 1 ? "a parameter" : "parameters"} the page cannot use</h1>
      <ul className="mt-3 space-y-1">
        {issues.map((issue) => (
          <li
            key={issue.param}
            data-testid={`param-error-${issue.param}`}
            className="break-words rounded bg-zinc-100 p-2 font-mono text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
          >
            {issue.message}
          </li>
        ))}
      </ul>
      <Link href={correctedHref} className="btn mt-4" data-testid="param-error-link">
        Go to <span className="ml-1 font-mono">{correctedHref}</span>
      </Link>
    </div>
  );
}
