/** "3/5" with a bar: completed in green, failed in red. */
export function StepProgress({ total, completed, failed }: { total: number; completed: number; failed: number }) {
  const pct = (n: number) => (total > 0 ? (n / total) * 100 : 0);
  return (
    <div className="flex items-center gap-2" title={`${completed} of ${total} steps completed${failed ? `, ${failed} failed` : ""}`}>
      <span className="w-10 shrink-0 text-xs tabular-nums text-muted">
        {completed}/{total}
      </span>
      <div className="flex h-1.5 w-full min-w-12 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-700" aria-hidden="true">
        <div className="bg-emerald-500" style={{ width: `${pct(completed)}%` }} />
        <div className="bg-rose-500" style={{ width: `${pct(failed)}%` }} />
      </div>
    </div>
  );
}
