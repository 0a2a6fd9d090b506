import type { WorkerJSON } from "@/lib/workers/json";

const STYLE: Record<WorkerJSON["status"], string> = {
  online: "bg-emerald-50 text-emerald-800 ring-emerald-300 dark:bg-emerald-950 dark:text-emerald-300 dark:ring-emerald-700",
  offline: "bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600",
};

/** Colour and text: the word says it for anyone who cannot tell the colours apart. */
export function WorkerStatusBadge({ status }: { status: WorkerJSON["status"] }) {
  return (
    <span
      className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${STYLE[status]}`}
      data-testid="worker-status"
    >
      <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full ${status === "online" ? "bg-emerald-500" : "bg-zinc-400"}`} />
      {status}
    </span>
  );
}
