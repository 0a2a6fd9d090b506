"use client";
/** Download the run as JSON, with or without step results, built in the browser from a fresh fetch. */
import * as DropdownMenu from "@radix-ui/react-dropdown-menu";
import { useState } from "react";
import type { PipelineStatusJSON } from "@/lib/tracking/models";
import { fetchPipeline } from "../api/api-client";

function withoutResults(run: PipelineStatusJSON): PipelineStatusJSON {
  return { ...run, result: null, steps: run.steps.map((s) => ({ ...s, result: null })) };
}

function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function ExportMenu({ pipelineId }: { pipelineId: string }) {
  const [error, setError] = useState<string | null>(null);
  const exportRun = async (results: boolean) => {
    setError(null);
    try {
      const run = await fetchPipeline(pipelineId);
      const body = results ? run : withoutResults(run);
      download(`${pipelineId}${results ? "" : ".no-results"}.json`, JSON.stringify(body, null, 2));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  const item = "cursor-pointer rounded px-2 py-1.5 text-sm outline-none data-[highlighted]:bg-zinc-100 dark:data-[highlighted]:bg-zinc-800";
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger asChild>
        <button type="button" className="btn" data-testid="export-run" title={error ?? undefined}>
          Export JSON <span aria-hidden="true">▾</span>
        </button>
      </DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content align="end" sideOffset={4} className="card z-50 min-w-48 p-1">
          <DropdownMenu.Item className={item} onSelect={() => void exportRun(true)} data-testid="export-with-results">
            With step results
          </DropdownMenu.Item>
          <DropdownMenu.Item className={item} onSelect={() => void exportRun(false)} data-testid="export-without-results">
            Without results
          </DropdownMenu.Item>
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}
