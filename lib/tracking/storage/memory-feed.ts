/**
 * The memory storage's change feed: every write announced at once to the subscribers of this
 * process. A change carries the run's state, expanded only when a subscriber reads it (the manager
 * drops its own echoes unread, on every transition).
 */
import type { PipelineStatus } from "../models";
import { expand, type HeldRun } from "./memory-runs";
import type { StorageChange } from "./types";

export class MemoryFeed {
  private readonly handlers = new Set<(change: StorageChange) => void>();

  subscribe(handler: (change: StorageChange) => void): () => void {
    this.handlers.add(handler);
    return () => void this.handlers.delete(handler);
  }

  clear(): void {
    this.handlers.clear();
  }

  /** `run` is the state after the write, or null for a delete. */
  announce(pipelineId: string, version: number, origin: string | null, run: HeldRun | null): void {
    if (this.handlers.size === 0) return;
    const change: StorageChange = { pipelineId, version, origin, deleted: run === null };
    if (run !== null) {
      let expanded: PipelineStatus | undefined;
      Object.defineProperty(change, "status", { enumerable: true, get: () => (expanded ??= expand(run)) });
    }
    for (const handler of this.handlers) {
      try {
        handler(change);
      } catch {
        // A subscriber's failure is its own; the write already happened.
      }
    }
  }
}
