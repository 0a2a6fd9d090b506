"use client";
import Link from "next/link";
import type { WorkerJSON } from "@/lib/workers/json";
import { RelativeTime } from "../ui/relative-time";
import { formatUtc } from "../ui/duration-format";
import { WorkerStatusBadge } from "./worker-status-badge";

const TD = "px-3 py-2 align-top";

export function WorkerRow({ worker }: { worker: WorkerJSON }) {
  return (
    <tr
      data-testid="worker-row"
      data-worker-id={worker.workerId}
      data-status={worker.status}
      className="border-b border-zinc-100 last:border-0 dark:border-zinc-800"
    >
      <td className={`${TD} max-w-56 truncate font-mono text-[13px]`} title={worker.workerId}>
        {worker.workerId}
      </td>
      <td className={`${TD} max-w-40 truncate`} title={worker.hostname}>
        {worker.hostname}
      </td>
      <td className={`${TD} text-right tabular-nums`}>{worker.pid}</td>
      <td className={TD}>
        <WorkerStatusBadge status={worker.status} />
      </td>
      <td className={`${TD} min-w-48`} data-testid="worker-active">
        {worker.active.length === 0 ? (
          <span className="text-subtle">idle</span>
        ) : (
          <ul className="space-y-0.5">
            {worker.active.map((step) => (
              <li key={`${step.pipelineId}\n${step.stepName}`} className="flex min-w-0 gap-1.5">
                <Link
                  href={`/pipelines/${encodeURIComponent(step.pipelineId)}`}
                  className="truncate rounded font-mono text-[13px] text-accent hover:underline focus-ring"
                  title={step.pipelineId}
                >
                  {step.pipelineId}
                </Link>
                <span className="truncate text-muted" title={step.stepName}>
                  ▸ {step.stepName}
                </span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className={`${TD} text-right tabular-nums`}>{worker.processed}</td>
      <td className={`${TD} text-right tabular-nums ${worker.failed > 0 ? "text-danger" : ""}`}>{worker.failed}</td>
      <td className={`${TD} text-right tabular-nums`}>{worker.concurrency}</td>
      <td className={TD}>
        <RelativeTime iso={worker.lastSeenAt} />
      </td>
      <td className={`${TD} whitespace-nowrap tabular-nums text-muted`}>
        <time dateTime={worker.startedAt} title={formatUtc(worker.startedAt)}>
          {formatUtc(worker.startedAt).slice(0, 19)} UTC
        </time>
      </td>
    </tr>
  );
}
