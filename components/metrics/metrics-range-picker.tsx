import Link from "next/link";

const RANGES = [1, 7, 30];

export function MetricsRangePicker({ days }: { days: number }) {
  return (
    <nav
      aria-label="Time range"
      className="inline-flex rounded-md border border-zinc-300 bg-white p-0.5 dark:border-zinc-700 dark:bg-zinc-900"
    >
      {RANGES.map((d) => (
        <Link
          key={d}
          href={`/metrics?days=${d}`}
          aria-current={d === days ? "page" : undefined}
          data-testid={`range-${d}`}
          className={`rounded px-3 py-1 text-sm font-medium focus-ring ${
            d === days ? "bg-zinc-900 text-white dark:bg-white dark:text-zinc-900" : "text-muted hover:bg-zinc-100 dark:hover:bg-zinc-800"
          }`}
        >
          {d === 1 ? "24 h" : `${d} days`}
        </Link>
      ))}
    </nav>
  );
}
