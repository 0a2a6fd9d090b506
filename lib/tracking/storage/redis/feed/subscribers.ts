/**
 * The Redis storage's change-feed subscribers: the feed (change-feed.ts) hands each change, and each
 * gap it cannot replay, to this set, which passes it on to every subscriber. A subscriber that throws
 * is logged and does not keep the change from the others.
 */
import type { Logger } from "../../../../logger";
import type { FeedEvents, StorageChange } from "../../types";
import type { ChangeFeedHandlers } from "./change-feed";

interface Subscriber {
  handler: (change: StorageChange) => void;
  events: FeedEvents | undefined;
}

export class FeedSubscribers implements ChangeFeedHandlers {
  private readonly subscribers = new Set<Subscriber>();

  constructor(private readonly logger: Logger) {}

  /** Answers the function that removes this subscriber. */
  add(handler: (change: StorageChange) => void, events?: FeedEvents): () => void {
    const subscriber = { handler, events };
    this.subscribers.add(subscriber);
    return () => void this.subscribers.delete(subscriber);
  }

  clear(): void {
    this.subscribers.clear();
  }

  deliver(change: StorageChange): void {
    for (const { handler } of this.subscribers) {
      try {
        handler(change);
      } catch (err) {
        this.logger.error({ err }, "a change-feed subscriber threw");
      }
    }
  }

  reset(): void {
    for (const { events } of this.subscribers) {
      try {
        events?.onReset?.();
      } catch (err) {
        this.logger.error({ err }, "a change-feed subscriber's onReset threw");
      }
    }
  }
}
