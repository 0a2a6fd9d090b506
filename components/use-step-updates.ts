"use client";
/**
 * Joins one pipeline's room (again after every reconnect: rooms do not survive a reconnect) and
 * delivers its `step:update`s coalesced per animation frame, latest per step.
 */
import { useEffect, useRef } from "react";
import type { StepStatusJSON } from "@/lib/tracking/models";
import { useSocket } from "./socket-provider";

export function useStepUpdates(pipelineId: string, onSteps: (steps: StepStatusJSON[]) => void): void {
  const { socket } = useSocket();
  const handler = useRef(onSteps);
  useEffect(() => {
    handler.current = onSteps;
  });

  useEffect(() => {
    if (!socket) return;
    const pending = new Map<string, StepStatusJSON>();
    let frame = 0;
    const flush = () => {
      frame = 0;
      const steps = [...pending.values()];
      pending.clear();
      handler.current(steps);
    };
    const onStep = (payload: { pipelineId: string; step: StepStatusJSON }) => {
      if (payload.pipelineId !== pipelineId) return;
      pending.set(payload.step.stepName, payload.step);
      if (frame === 0) frame = requestAnimationFrame(flush);
    };
    const join = () => socket.emit("subscribe", { pipelineId });
    socket.on("step:update", onStep);
    socket.on("connect", join);
    if (socket.connected) join();
    return () => {
      if (frame) cancelAnimationFrame(frame);
      socket.off("step:update", onStep);
      socket.off("connect", join);
      if (socket.connected) socket.emit("unsubscribe", { pipelineId });
    };
  }, [socket, pipelineId]);
}
