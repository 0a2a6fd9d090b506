/** The handle `kiq` returns: wait for the result, or cancel the run. */
import type { RunControl } from "./broker";
import type { TaskResult } from "./execution";

export class PipelineTask<T = unknown> {
  constructor(
    readonly pipelineId: string,
    private readonly execution: RunControl,
    private readonly done: Promise<TaskResult<T>>,
  ) {}

  /** Resolves when the run ends (its final state already stored); rejects with a TimeoutError after `timeoutMs`. */
  waitResult(options: { timeoutMs?: number } = {}): Promise<TaskResult<T>> {
    const { timeoutMs } = options;
    if (timeoutMs === undefined) return this.done;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) throw new RangeError("timeoutMs must be a non-negative number");
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new Error(`Pipeline run "${this.pipelineId}" did not finish within ${timeoutMs} ms`);
        err.name = "TimeoutError";
        reject(err);
      }, timeoutMs);
      this.done.then((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  /** Ends the run as CANCELLED: running steps see their signal aborted, unstarted steps never run. False if it had already ended. */
  cancel(): Promise<boolean> {
    return this.execution.cancel();
  }

  get isDone(): boolean {
    return this.execution.finished;
  }
}
