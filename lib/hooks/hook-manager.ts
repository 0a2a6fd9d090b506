/**
 * HookManager: typed lifecycle events of the pipelines that use it (`pipeline.withHooks(hooks)`),
 * plus `status:update` fed by a TrackingEventBroadcaster. Handlers are isolated like listeners:
 * one that throws or rejects is logged and never affects a run or the other handlers.
 */
import { defaultLogger, type Logger } from "../logger";
import type { PipelineStatus } from "../tracking/models";

export interface HookEvents {
  "pipeline:start": { pipelineId: string; pipelineName: string | null };
  "step:start": { pipelineId: string; stepName: string; attempt: number };
  "step:complete": { pipelineId: string; stepName: string; result: unknown; durationMs: number };
  "step:error": { pipelineId: string; stepName: string; error: string; attempt: number; willRetry: boolean };
  "pipeline:complete": { pipelineId: string; result: unknown; durationMs: number };
  "pipeline:error": { pipelineId: string; stepName: string | null; error: string };
  "pipeline:cancel": { pipelineId: string; reason: string };
  /** Every status change a broadcaster hears (see TrackingEventBroadcaster). */
  "status:update": PipelineStatus;
}

export type HookEventName = keyof HookEvents;
export type HookHandler<E extends HookEventName> = (payload: HookEvents[E]) => void | Promise<void>;

export class HookManager {
  private readonly handlers = new Map<HookEventName, Set<HookHandler<never>>>();
  private readonly logger: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.logger = options.logger ?? defaultLogger();
  }

  /** Returns a function that removes the handler. */
  on<E extends HookEventName>(event: E, handler: HookHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as HookHandler<never>);
    return () => this.off(event, handler);
  }

  off<E extends HookEventName>(event: E, handler: HookHandler<E>): void {
    this.handlers.get(event)?.delete(handler as HookHandler<never>);
  }

  emit<E extends HookEventName>(event: E, payload: HookEvents[E]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of set) {
      try {
        const out = (handler as HookHandler<E>)(payload);
        if (out && typeof out.then === "function") {
          out.then(undefined, (err: unknown) => this.logger.error({ err, event }, "hook handler rejected"));
        }
      } catch (err) {
        this.logger.error({ err, event }, "hook handler threw");
      }
    }
  }
}
