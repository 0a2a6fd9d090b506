"use client";
/** "3 min ago", with the absolute local and UTC time on hover. Before hydration: the local time. */
import { formatDistanceStrict } from "date-fns";
import { formatUtc } from "./duration-format";
import { useNow } from "./use-now";

export function RelativeTime({ iso }: { iso: string | null }) {
  const now = useNow();
  if (!iso) return <span className="text-subtle">—</span>;
  const date = new Date(iso);
  const title = `${date.toLocaleString()} (local)\n${formatUtc(iso)}`;
  // Under 5 s, "0 seconds ago" / "3 seconds ago" only flicker; "just now" says the same.
  const label =
    now === 0 ? formatUtc(iso).slice(11, 19) : now - date.getTime() < 5_000 ? "just now" : `${formatDistanceStrict(date, now)} ago`;
  return (
    <time dateTime={iso} title={title} className="whitespace-nowrap tabular-nums">
      {label}
    </time>
  );
}
