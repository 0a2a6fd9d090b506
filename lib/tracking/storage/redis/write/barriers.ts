/**
 * Reads waiting for this process's earlier writes (read-your-writes): each waits until every write
 * up to a given seq is done, the queue (queue.ts) reporting how far that is after each change.
 */
export class WriteBarriers {
  private waiting: { target: number; release: () => void }[] = [];

  get empty(): boolean {
    return this.waiting.length === 0;
  }

  /** Resolves once `release` is called with a seq of at least `target`, or after `timeoutMs`. */
  async wait(target: number, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.waiting.push({ target, release: resolve });
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  }

  /** Every write up to `done` was answered (or given up): those waiting for no later one go ahead. */
  release(done: number): void {
    this.waiting = this.waiting.filter((b) => {
      if (b.target > done) return true;
      b.release();
      return false;
    });
  }

  releaseAll(): void {
    for (const b of this.waiting) b.release();
    this.waiting = [];
  }
}
