import type { DefinitionJSON } from "@/lib/workers/json";

/** The pipelines the online workers can run: shape, steps with their dependencies, and how many workers offer each. */
export function DefinitionsList({ definitions }: { definitions: DefinitionJSON[] }) {
  if (definitions.length === 0) {
    return (
      <p className="py-6 text-center text-sm text-subtle" data-testid="definitions-empty">
        No online worker offers a pipeline right now.
      </p>
    );
  }
  return (
    <ul className="divide-y divide-zinc-100 dark:divide-zinc-800">
      {definitions.map((d) => (
        <li key={d.name} className="py-3" data-testid="definition" data-definition-name={d.name}>
          <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
            <h3 className="font-mono text-sm font-semibold">{d.name}</h3>
            <span className="text-xs text-subtle">{d.pipelineType}</span>
            <span className="text-xs text-muted" data-testid="definition-workers">
              {d.workers} online worker{d.workers === 1 ? "" : "s"}
            </span>
          </div>
          <ol className="mt-1.5 flex flex-wrap gap-1.5 text-xs" aria-label={`Steps of ${d.name}`}>
            {d.steps.map((s) => (
              <li key={s.name} className="rounded-md bg-zinc-100 px-2 py-0.5 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200">
                <span className="font-mono">{s.name}</span>
                {s.dependsOn.length > 0 && <span className="text-muted"> ← {s.dependsOn.join(", ")}</span>}
              </li>
            ))}
          </ol>
        </li>
      ))}
    </ul>
  );
}
