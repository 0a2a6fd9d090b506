"use client";
/**
 * Live list updates, coalesced per animation frame: a burst of events for the same pipeline costs
 * one render with its latest summary. Deletions are delivered in the same batch.
 */
import { useEffect, useRef } from "react";
import type { PipelineSummary } from "@/lib/tracking/models";
import { useSocket } from "./socket-provider";

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
    const pending = new Map<string, PipelineSummary>();
    const deleted = new Set<string>();
    let frame = 0;
    const flush = () => {
      frame = 0;
      const batch = { updates: [...pending.values()], deletedIds: [...deleted] };
      pending.clear();
      deleted.clear();
      handler.current(batch);
    };
    const schedule = () => {
      if (frame === 0) frame = requestAnimationFrame(flush);
    };
    const onUpdate = (summary: PipelineSummary) => {
      deleted.delete(summary.pipelineId);
      pending.set(summary.pipelineId, summary);
      schedule();
    };
    const onDelete = ({ pipelineId }: { pipelineId: string }) => {
      pending.delete(pipelineId);
      deleted.add(pipelineId);
      schedule();
    };
    socket.on("pipeline:update", onUpdate);
    socket.on("pipeline:delete", onDelete);
    return () => {
      if (frame) cancelAnimationFrame(frame);
      socket.off("pipeline:update", onUpdate);
      socket.off("pipeline:delete", onDelete);
    };
  }, [socket]);
}
