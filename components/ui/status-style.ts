/** How each status looks. The statuses themselves come from lib/tracking/status. */
import { STATUSES, type Status } from "@/lib/tracking/status";

/** Status tab order: running runs first, the rest as declared. */
export const STATUS_ORDER: readonly Status[] = ["RUNNING", ...STATUSES.filter((s) => s !== "RUNNING")];

/** Badge colours: text + background, readable in light and dark. */
export const STATUS_BADGE: Record<Status, string> = {
  PENDING: "bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600",
  RUNNING: "bg-sky-50 text-sky-800 ring-sky-300 dark:bg-sky-950 dark:text-sky-300 dark:ring-sky-700",
  COMPLETED: "bg-emerald-50 text-emerald-800 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-700",
  FAILED: "bg-rose-50 text-rose-800 ring-rose-300 dark:bg-rose-950 dark:text-rose-300 dark:ring-rose-700",
  CANCELLED: "bg-amber-50 text-amber-800 ring-amber-300 dark:bg-amber-950 dark:text-amber-300 dark:ring-amber-700",
};

/** Solid fills for timeline bars and progress. */
export const STATUS_FILL: Record<Status, string> = {
  PENDING: "bg-zinc-300 dark:bg-zinc-600",
  RUNNING: "bg-sky-500",
  COMPLETED: "bg-emerald-500",
  FAILED: "bg-rose-500",
  CANCELLED: "bg-amber-500",
};

/** Chart colours (recharts takes CSS colours, not classes). */
export const STATUS_COLOR: Record<Status, string> = {
  PENDING: "#a1a1aa",
  RUNNING: "#0ea5e9",
  COMPLETED: "#10b981",
  FAILED: "#f43f5e",
  CANCELLED: "#f59e0b",
};

/**
 * How far along a status is: PENDING < RUNNING < finished. A fetched snapshot older than a live
 * event must never move a run or step back, so merges keep the further-along side.
 */
export function statusRank(status: Status): number {
  return status === "PENDING" ? 0 : status === "RUNNING" ? 1 : 2;
}
