/**
 * Tracking listeners: a function that hears every status change, or an object with
 * any of the lifecycle callbacks below. Calls are isolated: a listener that throws, rejects or never
 * settles is logged and otherwise ignored, and is never awaited by a run.
 */
import type { Logger } from "../logger";
import type { PipelineStatus } from "./models";

export interface TrackingListenerObject {
  onPipelineStart?(pipelineId: string): void | Promise<void>;
  onStepStart?(pipelineId: string, stepName: string): void | Promise<void>;
  onStepComplete?(pipelineId: string, stepName: string, result: unknown): void | Promise<void>;
  onPipelineComplete?(pipelineId: string, status: PipelineStatus): void | Promise<void>;
  onPipelineError?(pipelineId: string, error: string): void | Promise<void>;
  onStatusUpdate?(status: PipelineStatus): void | Promise<void>;
}

export type TrackingListenerFunction = (status: PipelineStatus) => void | Promise<void>;
export type TrackingListener = TrackingListenerFunction | TrackingListenerObject;

export type ListenerEvent =
  | { kind: "pipelineStart"; pipelineId: string }
  | { kind: "stepStart"; pipelineId: string; stepName: string }
  | { kind: "stepComplete"; pipelineId: string; stepName: string; result: unknown }
  | { kind: "pipelineComplete"; pipelineId: string; status: PipelineStatus }
  | { kind: "pipelineError"; pipelineId: string; error: string };

export class ListenerSet {
  private listeners: TrackingListener[] = [];

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.listeners.length;
  }

  add(listener: TrackingListener): void {
    if (typeof listener !== "function" && (typeof listener !== "object" || listener === null)) {
      throw new TypeError("A tracking listener is a function or an object with on* methods");
    }
    if (!this.listeners.includes(listener)) this.listeners = [...this.listeners, listener];
  }

  remove(listener: TrackingListener): boolean {
    const before = this.listeners.length;
    this.listeners = this.listeners.filter((l) => l !== listener);
    return this.listeners.length !== before;
  }

  /** Status updates go to function listeners and to `onStatusUpdate`. */
  statusUpdate(status: PipelineStatus): void {
    for (const l of this.listeners) {
      if (typeof l === "function") this.call(l, null, [status], "status update");
      else if (l.onStatusUpdate) this.call(l.onStatusUpdate, l, [status], "onStatusUpdate");
    }
  }

  /** Lifecycle events go to the object listeners' matching method. */
  event(e: ListenerEvent): void {
    for (const l of this.listeners) {
      if (typeof l === "function") continue;
      switch (e.kind) {
        case "pipelineStart":
          if (l.onPipelineStart) this.call(l.onPipelineStart, l, [e.pipelineId], "onPipelineStart");
          break;
        case "stepStart":
          if (l.onStepStart) this.call(l.onStepStart, l, [e.pipelineId, e.stepName], "onStepStart");
          break;
        case "stepComplete":
          if (l.onStepComplete) this.call(l.onStepComplete, l, [e.pipelineId, e.stepName, e.result], "onStepComplete");
          break;
        case "pipelineComplete":
          if (l.onPipelineComplete) this.call(l.onPipelineComplete, l, [e.pipelineId, e.status], "onPipelineComplete");
          break;
        case "pipelineError":
          if (l.onPipelineError) this.call(l.onPipelineError, l, [e.pipelineId, e.error], "onPipelineError");
          break;
      }
    }
  }

  private call(fn: (...args: never[]) => unknown, self: unknown, args: unknown[], what: string): void {
    try {
      const out = (fn as (...a: unknown[]) => unknown).apply(self, args);
      if (out && typeof (out as Promise<unknown>).then === "function") {
        (out as Promise<unknown>).then(undefined, (err: unknown) => this.logger.error({ err }, `tracking listener ${what} rejected`));
      }
    } catch (err) {
      this.logger.error({ err }, `tracking listener ${what} threw`);
    }
  }
}
