"use client";
import type { DefinitionJSON, WorkerJSON } from "@/lib/workers/json";
import { DefinitionsList } from "./definitions-list";
import { useLiveWorkers } from "./use-live-workers";
import { WorkerRow } from "./worker-row";
import { WorkersEmptyState } from "./workers-empty-state";

const TH = "px-3 py-2 text-xs font-semibold uppercase tracking-wide text-subtle";

/** The workers table and the definitions, from the server's first render, then live. */
export function WorkersView({
  initialWorkers,
  initialDefinitions,
}: {
  initialWorkers: WorkerJSON[];
  initialDefinitions: DefinitionJSON[];
}) {
  const { workers, definitions } = useLiveWorkers(initialWorkers, initialDefinitions);
  const online = workers.filter((w) => w.status === "online").length;
  return (
    <div className="space-y-6">
      <section className="card" aria-labelledby="workers-heading">
        <div className="flex items-baseline justify-between gap-3 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
          <h2 id="workers-heading" className="text-sm font-semibold">
            Workers
          </h2>
          <p className="text-xs text-subtle" data-testid="workers-count">
            {online} online · {workers.length - online} offline
          </p>
        </div>
        {workers.length === 0 ? (
          <WorkersEmptyState />
        ) : (
          // Focusable: the table scrolls sideways on narrow screens, and a keyboard must reach that too.
          <div className="overflow-x-auto focus-ring" tabIndex={0} role="region" aria-label="Workers table">
            <table className="w-full text-sm" data-testid="workers-table">
              <thead className="border-b border-zinc-200 dark:border-zinc-800">
                <tr>
                  <th className={`${TH} text-left`}>Worker</th>
                  <th className={`${TH} text-left`}>Host</th>
                  <th className={`${TH} text-right`}>PID</th>
                  <th className={`${TH} text-left`}>Status</th>
                  <th className={`${TH} text-left`}>Active steps</th>
                  <th className={`${TH} text-right`}>Processed</th>
                  <th className={`${TH} text-right`}>Failed</th>
                  <th className={`${TH} text-right`}>Concurrency</th>
                  <th className={`${TH} text-left`}>Last seen</th>
                  <th className={`${TH} text-left`}>Started</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((w) => (
                  <WorkerRow key={w.workerId} worker={w} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section className="card px-4 py-3" aria-labelledby="definitions-heading">
        <h2 id="definitions-heading" className="text-sm font-semibold">
          Definitions
        </h2>
        <p className="text-xs text-subtle">The pipelines the online workers can run.</p>
        <DefinitionsList definitions={definitions} />
      </section>
    </div>
  );
}
