/**
 * Coalesces live events into one delivery per animation frame: events change a pending batch, and
 * the first change after a delivery asks for the next frame. A burst of socket events thus costs one
 * render, and the frame callback is the single place that decides when a batch reaches React. The
 * batch renders synchronously inside that callback (flushSync), so it is painted in that same frame;
 * rendered the usual way, React would commit it in a later task, after the frame was painted, and
 * it would wait for the next one (bench/results/ui-paint.md).
 */
import { flushSync } from "react-dom";

export interface FrameBatch<B> {
  /** Applies `change` to the pending batch and makes sure a frame will deliver it. */
  add(change: (pending: B) => void): void;
  /** Forgets the pending batch and its frame (the subscription that fed it is going away). */
  cancel(): void;
}

export function createFrameBatch<B>(empty: () => B, deliver: (batch: B) => void): FrameBatch<B> {
  let pending = empty();
  let frame = 0;
  const flush = () => {
    frame = 0;
    const batch = pending;
    pending = empty();
    flushSync(() => deliver(batch));
  };
  return {
    add(change) {
      change(pending);
      if (frame === 0) frame = requestAnimationFrame(flush);
    },
    cancel() {
      if (frame) cancelAnimationFrame(frame);
      frame = 0;
      pending = empty();
    },
  };
}
