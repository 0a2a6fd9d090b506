/** What an operator sees before any worker has heartbeated: how to start one. */
export function WorkersEmptyState() {
  return (
    <div className="mx-auto max-w-xl px-6 py-12 text-center" data-testid="workers-empty-state">
      <p className="text-lg font-medium">No workers seen in the last hour</p>
      <p className="mt-1 text-sm text-subtle">
        A worker appears here live as soon as it sends its first heartbeat. Start one against the same Redis and prefix as this dashboard:
      </p>
      <pre className="mt-4 overflow-x-auto rounded-md bg-zinc-900 p-4 text-left text-xs leading-relaxed text-zinc-100">
        {`REDIS_URL=redis://127.0.0.1:6379 \\
  pipewatch worker ./pipelines.js --concurrency 4`}
      </pre>
      <p className="mt-3 text-xs text-subtle">
        Or start the dashboard with <code className="rounded bg-zinc-100 px-1 dark:bg-zinc-800">DEMO=1</code>: it then runs the demo
        pipelines itself and lists itself as a worker.
      </p>
    </div>
  );
}
