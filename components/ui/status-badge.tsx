import type { Status } from "@/lib/tracking/models";
import { STATUS_BADGE } from "./status-style";

export function StatusBadge({ status, testId }: { status: Status; testId?: string }) {
  return (
    <span
      className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${STATUS_BADGE[status]}`}
      data-testid={testId}
    >
      {status === "RUNNING" && <span aria-hidden="true" className="h-1.5 w-1.5 animate-pulse rounded-full bg-current" />}
      {status}
    </span>
  );
}
