/**
 * Coalesces a burst of updates per key (a pipeline id) without delaying a lone update: the first
 * update of a key goes out at once and opens a window; later ones inside the window only replace
 * the pending value, which is emitted when the window ends. So a key gets at most two emits per
 * window (leading and trailing) however fast it changes, the latest value always goes out at most
 * `windowMs` late, and a change arriving after a quiet window goes out at once. The trailing emit
 * deliberately opens no new window: a run whose steps finish every ~130 ms would otherwise see
 * each finish held back behind the previous step's start.
 */
export class UpdateCoalescer<T> {
  private readonly windows = new Map<string, { pending: T | undefined; timer: NodeJS.Timeout }>();

  /** `onError` hears an emit that threw from a window's timer (where nobody else could catch it). */
  constructor(private readonly emit: (key: string, value: T) => void, private readonly windowMs = 100,
    private readonly onError: (err: unknown, key: string) => void = () => undefined) {}

  push(key: string, value: T): void {
    const window = this.windows.get(key);
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
