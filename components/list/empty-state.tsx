import Link from "next/link";

/** What an operator sees before any run exists: how to start one. */
export function EmptyState({ filtered }: { filtered: boolean }) {
  if (filtered) {
    return (
      <div className="px-6 py-16 text-center" data-testid="empty-state">
        <p className="font-medium">No runs match this filter.</p>
        <p className="mt-1 text-sm text-subtle">Try another status tab or clear the search.</p>
        <Link href="/" className="btn mt-4" data-testid="clear-filters">
          Show all runs
        </Link>
      </div>
    );
  }
  return (
    <div className="mx-auto max-w-xl px-6 py-16 text-center" data-testid="empty-state">
      <p className="text-lg font-medium">No pipeline runs yet</p>
      <p className="mt-1 text-sm text-subtle">
        Runs appear here live as soon as a tracked pipeline starts. Attach the tracking manager the server uses and call
        <code className="mx-1 rounded bg-zinc-100 px-1 py-0.5 text-xs dark:bg-zinc-800">kiq</code>:
      </p>
      <pre className="mt-4 overflow-x-auto rounded-md bg-zinc-900 p-4 text-left text-xs leading-relaxed text-zinc-100">
        {`const etl = new Pipeline(broker, { name: "etl" })
  .step("extract", fetchRows)
  .step("transform", clean)
  .withTracking(tracking);

await etl.kiq(input);`}
      </pre>
      <p className="mt-3 text-xs text-subtle">
        Or start the server with <code className="rounded bg-zinc-100 px-1 dark:bg-zinc-800">DEMO=1</code> for a demo workload.
      </p>
    </div>
  );
}
