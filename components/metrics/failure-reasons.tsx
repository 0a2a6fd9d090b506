import Link from "next/link";

/** Top 10 failure reasons as bars; each links to the failed runs. */
export function FailureReasons({ reasons }: { reasons: Record<string, number> }) {
  const top = Object.entries(reasons)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10);
  if (top.length === 0) return <p className="py-10 text-center text-sm text-subtle">No failed runs in this range. 🎉</p>;
  const max = top[0]![1];
  return (
    <ol className="space-y-2" data-testid="failure-reasons">
      {top.map(([reason, count]) => (
        <li key={reason}>
          <Link
            href="/?status=FAILED"
            className="group block rounded focus-ring"
            title={`${reason}\n${count} failed runs — show failed runs`}
          >
            <div className="flex items-baseline justify-between gap-3 text-sm">
              <span className="truncate group-hover:underline">{reason}</span>
              <span className="shrink-0 tabular-nums text-subtle">{count}</span>
            </div>
            <div className="mt-1 h-1.5 rounded-full bg-zinc-100 dark:bg-zinc-800">
              <div className="h-full rounded-full bg-rose-500" style={{ width: `${(count / max) * 100}%` }} />
            </div>
          </Link>
        </li>
      ))}
    </ol>
  );
}
