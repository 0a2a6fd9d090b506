"use client";
/**
 * Joins one pipeline's room (again after every reconnect: rooms do not survive a reconnect) and
 * delivers its `step:update`s coalesced per animation frame, latest per step.
 */
import { useEffect, useRef } from "react";
import type { StepStatusJSON } from "@/lib/tracking/models";
import { useSocket } from "../shell/socket-provider";
import { createFrameBatch } from "./frame-batch";

export function useStepUpdates(pipelineId: string, onSteps: (steps: StepStatusJSON[]) => void): void {
  const { socket } = useSocket();
  const handler = useRef(onSteps);
  useEffect(() => {
    handler.current = onSteps;
  });

  useEffect(() => {
    if (!socket) return;
    const batch = createFrameBatch(
      () => new Map<string, StepStatusJSON>(),
      (pending) => handler.current([...pending.values()]),
    );
    const onStep = (payload: { pipelineId: string; step: StepStatusJSON }) => {
      if (payload.pipelineId !== pipelineId) return;
      batch.add((pending) => pending.set(payload.step.stepName, payload.step));
    };
    const join = () => socket.emit("subscribe", { pipelineId });
    socket.on("step:update", onStep);
    socket.on("connect", join);
    if (socket.connected) join();
    return () => {
      batch.cancel();
      socket.off("step:update", onStep);
      socket.off("connect", join);
      if (socket.connected) socket.emit("unsubscribe", { pipelineId });
    };
  }, [socket, pipelineId]);
}
