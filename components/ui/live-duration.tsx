"use client";
/** A run's or step's duration; while it runs, counts up every second from its start. */
import { formatDuration } from "./duration-format";
import { useNow } from "./use-now";

export function LiveDuration({
  startedAt,
  durationMs,
  running,
}: {
  startedAt: string | null;
  durationMs: number | null;
  running: boolean;
}) {
  const now = useNow();
  if (durationMs !== null && !running) return <span className="tabular-nums">{formatDuration(durationMs)}</span>;
  if (!running || !startedAt) return <span className="text-subtle">—</span>;
  const elapsed = now === 0 ? null : Math.max(0, now - new Date(startedAt).getTime());
  return <span className="tabular-nums text-accent">{elapsed === null ? "…" : formatDuration(elapsed)}</span>;
}
