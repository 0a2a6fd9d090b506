/**
 * Coalesces a burst of updates per key (a pipeline id) without holding back anything a screen could
 * show: the first update of a key goes out at once and opens a window of `windowMs` (default 16 ms,
 * one 60 Hz frame); later ones inside it only replace the pending value, which is emitted when the
 * window ends. A final value (`push(key, value, true)`: a run that ended) goes out at once whatever
 * is pending, and replaces it. So a key gets at most two emits per window however fast it changes,
 * the latest value always goes out at most one frame late, and an end is never late. The trailing
 * emit opens no new window: a change arriving after it goes out at once.
 */
export const FRAME_MS = 16;

export class UpdateCoalescer<T> {
  private readonly windows = new Map<string, { pending: T | undefined; timer: NodeJS.Timeout }>();

  /** `onError` hears an emit that threw from a window's timer (where nobody else could catch it). */
  constructor(
    private readonly emit: (key: string, value: T) => void,
    private readonly windowMs = FRAME_MS,
    private readonly onError: (err: unknown, key: string) => void = () => undefined,
  ) {}

  push(key: string, value: T, final = false): void {
    const window = this.windows.get(key);
    if (final) {
      // Whatever was pending is older than the end: it is dropped, not sent after it.
      if (window) this.drop(key);
      this.emit(key, value);
      return;
    }
    if (window) {
      window.pending = value;
      return;
    }
    // The window opens first: an emit that throws (to the caller) still leaves the key coalesced
    // and its next value delivered by the timer.
    this.open(key);
    this.emit(key, value);
  }

  /** Sends every pending value now and stops all windows (shutdown). */
  flush(): void {
    const windows = [...this.windows];
    this.windows.clear();
    for (const [key, window] of windows) {
      clearTimeout(window.timer);
      if (window.pending === undefined) continue;
      try {
        this.emit(key, window.pending);
      } catch (err) {
        this.onError(err, key);
      }
    }
  }

  /** Forget a key (deleted): its pending value is dropped. */
  drop(key: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
  }

  get openWindows(): number {
    return this.windows.size;
  }

  private open(key: string): void {
    const timer = setTimeout(() => {
      const window = this.windows.get(key);
      this.windows.delete(key);
      if (window?.pending === undefined) return;
      try {
        this.emit(key, window.pending);
      } catch (err) {
        this.onError(err, key);
      }
    }, this.windowMs);
    timer.unref();
    this.windows.set(key, { pending: undefined, timer });
  }
}
