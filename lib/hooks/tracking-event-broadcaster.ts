/**
 * Bridges tracking to hooks: `tracking.addListener(broadcaster.onStatusUpdate)` re-emits
 * every status change as the `status:update` hook, which a Socket.IO server (or anything else)
 * subscribes to. `onStatusUpdate` is an arrow property, so passing it unbound works.
 */
import type { PipelineTrackingManager } from "../tracking/manager";
import type { PipelineStatus } from "../tracking/models";
import type { HookManager } from "./hook-manager";

export class TrackingEventBroadcaster {
  constructor(
    readonly tracking: PipelineTrackingManager,
    readonly hooks: HookManager,
  ) {}

  readonly onStatusUpdate = (status: PipelineStatus): void => {
    this.hooks.emit("status:update", status);
  };

  /** Convenience: attach to the tracking manager; returns a function that detaches. */
  attach(): () => void {
    this.tracking.addListener(this.onStatusUpdate);
    return () => this.tracking.removeListener(this.onStatusUpdate);
  }
}
