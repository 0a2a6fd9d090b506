"use client";
/**
 * Live list updates, coalesced per animation frame: a burst of events for the same pipeline costs
 * one render with its latest summary. Deletions are delivered in the same batch.
 */
import { useEffect, useRef } from "react";
import type { PipelineSummary } from "@/lib/tracking/models";
import { useSocket } from "../shell/socket-provider";
import { createFrameBatch } from "./frame-batch";

export interface PipelineUpdateBatch {
  updates: PipelineSummary[];
  deletedIds: string[];
}

export function usePipelineUpdates(onBatch: (batch: PipelineUpdateBatch) => void): void {
  const { socket } = useSocket();
  const handler = useRef(onBatch);
  useEffect(() => {
    handler.current = onBatch;
  });

  useEffect(() => {
    if (!socket) return;
    const batch = createFrameBatch(
      () => ({ pending: new Map<string, PipelineSummary>(), deleted: new Set<string>() }),
      ({ pending, deleted }) => handler.current({ updates: [...pending.values()], deletedIds: [...deleted] }),
    );
    const onUpdate = (summary: PipelineSummary) =>
      batch.add(({ pending, deleted }) => {
        deleted.delete(summary.pipelineId);
        pending.set(summary.pipelineId, summary);
      });
    const onDelete = ({ pipelineId }: { pipelineId: string }) =>
      batch.add(({ pending, deleted }) => {
        pending.delete(pipelineId);
        deleted.add(pipelineId);
      });
    socket.on("pipeline:update", onUpdate);
    socket.on("pipeline:delete", onDelete);
    return () => {
      batch.cancel();
      socket.off("pipeline:update", onUpdate);
      socket.off("pipeline:delete", onDelete);
    };
  }, [socket]);
}
