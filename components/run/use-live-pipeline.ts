"use client";
/**
 * One run, kept live: `pipeline:update` for its header fields, the room's `step:update` for its
 * steps, and a full refetch when the two disagree (a final status whose steps we have not seen
 * finish), after every reconnect, and after an action.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { PipelineStatusJSON, PipelineSummary, StepStatusJSON } from "@/lib/tracking/models";
import { isFinished } from "@/lib/tracking/status";
import { ApiError, fetchPipeline } from "../api/api-client";
import { statusRank } from "../ui/status-style";
import { usePipelineUpdates } from "../live/use-pipeline-updates";
import { useResync } from "../live/use-resync";
import { useStepUpdates } from "../live/use-step-updates";

export function useLivePipeline(initial: PipelineStatusJSON) {
  const id = initial.pipelineId;
  const [run, setRun] = useState(initial);
  const [deleted, setDeleted] = useState(false);
  const inFlight = useRef(false);
  // Set while this page deletes the run: no fetches of an id that is about to 404. Cleared again
  // if the delete fails, so the page keeps following the run.
  const gone = useRef(false);
  const again = useRef(false);

  const refetch = useCallback(async () => {
    if (gone.current) return;
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    try {
      do {
        again.current = false;
        if (gone.current) break;
        try {
          const fetched = await fetchPipeline(id);
          setRun((current) => mergeFetched(current, fetched));
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) setDeleted(true);
        }
      } while (again.current);
    } finally {
      inFlight.current = false;
    }
  }, [id]);

  const setDeleting = useCallback(
    (deleting: boolean) => {
      gone.current = deleting;
      // Events may have been skipped while the delete was pending: catch up.
      if (!deleting) void refetch();
    },
    [refetch],
  );

  const runRef = useRef(run);
  useEffect(() => {
    runRef.current = run;
  });

  usePipelineUpdates(({ updates, deletedIds }) => {
    if (deletedIds.includes(id)) setDeleted(true);
    const summary = updates.find((u) => u.pipelineId === id);
    if (!summary) return;
    const known = runRef.current.steps;
    // Step events may lag behind or be missed (joined the room late): fetch when counts disagree.
    const stepsDisagree =
      known.filter((s) => s.status === "COMPLETED").length !== summary.stepsCompleted ||
      known.filter((s) => s.status === "FAILED").length !== summary.stepsFailed;
    setRun((current) => applySummary(current, summary));
    if (isFinished(summary.status) || stepsDisagree) void refetch();
  });

  useStepUpdates(id, (steps) => setRun((current) => applySteps(current, steps)));
  useResync(() => void refetch());

  return { run, setRun, deleted, refetch, setDeleting };
}

function applySummary(run: PipelineStatusJSON, summary: PipelineSummary): PipelineStatusJSON {
  // The summary's error is cut to 200 chars; keep the full one we may already have.
  const error = summary.error !== null && run.error?.startsWith(summary.error) ? run.error : summary.error;
  // Mid-run, summaries change only step counts, which the steps already show: the same run, no render.
  if (
    run.status === summary.status &&
    run.completedAt === summary.completedAt &&
    run.durationMs === summary.durationMs &&
    run.error === error
  )
    return run;
  return { ...run, status: summary.status, completedAt: summary.completedAt, durationMs: summary.durationMs, error };
}

function applySteps(run: PipelineStatusJSON, updates: StepStatusJSON[]): PipelineStatusJSON {
  const byName = new Map(updates.map((s) => [s.stepName, s]));
  const steps = run.steps.map((step) => {
    const update = byName.get(step.stepName);
    // A finished step never moves backwards, whatever order events arrive in.
    if (!update || (isFinished(step.status) && !isFinished(update.status))) return step;
    return update;
  });
  return { ...run, steps };
}

/** A fetched run over the live one: events that arrived while the request was in flight win. */
function mergeFetched(current: PipelineStatusJSON, fetched: PipelineStatusJSON): PipelineStatusJSON {
  const live = new Map(current.steps.map((s) => [s.stepName, s]));
  const steps = fetched.steps.map((f) => {
    const c = live.get(f.stepName);
    return c && statusRank(c.status) > statusRank(f.status) ? c : f;
  });
  if (statusRank(current.status) > statusRank(fetched.status)) {
    return {
      ...fetched,
      status: current.status,
      completedAt: current.completedAt,
      durationMs: current.durationMs,
      error: current.error,
      steps,
    };
  }
  return { ...fetched, steps };
}
