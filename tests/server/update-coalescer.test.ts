import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FRAME_MS, UpdateCoalescer } from "../../server/update-coalescer";

describe("UpdateCoalescer", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("emits a lone update at once and the last of a burst at the window's end", () => {
    const sent: [string, number][] = [];
    const c = new UpdateCoalescer<number>((k, v) => sent.push([k, v]), 100);
    c.push("a", 1);
    expect(sent).toEqual([["a", 1]]);
    for (let i = 2; i <= 50; i++) c.push("a", i);
    c.push("b", 7);
    expect(sent).toEqual([
      ["a", 1],
      ["b", 7],
    ]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([
      ["a", 1],
      ["b", 7],
      ["a", 50],
    ]);
    expect(c.openWindows).toBe(0);
    // After the window, the next change goes out at once and opens a new window.
    c.push("a", 51);
    c.push("a", 52);
    expect(sent.at(-1)).toEqual(["a", 51]);
    vi.advanceTimersByTime(100);
    expect(sent.at(-1)).toEqual(["a", 52]);
    expect(sent.length).toBe(5);
  });

  it("holds a burst for one frame at most by default", () => {
    const sent: number[] = [];
    const c = new UpdateCoalescer<number>((_k, v) => sent.push(v));
    c.push("a", 1);
    c.push("a", 2);
    c.push("a", 3);
    vi.advanceTimersByTime(FRAME_MS - 1);
    expect(sent).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1, 3]);
    expect(FRAME_MS).toBeLessThanOrEqual(17);
  });

  it("sends a final value at once, whatever is pending, and nothing older after it", () => {
    const sent: [string, string][] = [];
    const c = new UpdateCoalescer<string>((k, v) => sent.push([k, v]), 100);
    // A run shorter than the window: started and ended inside it.
    c.push("short", "RUNNING");
    c.push("short", "RUNNING 1/2");
    c.push("short", "COMPLETED", true);
    expect(sent).toEqual([
      ["short", "RUNNING"],
      ["short", "COMPLETED"],
    ]);
    expect(c.openWindows).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual([
      ["short", "RUNNING"],
      ["short", "COMPLETED"],
    ]);
    // A lone final value, with no window open, goes out at once too and opens none.
    c.push("other", "FAILED", true);
    expect(sent.at(-1)).toEqual(["other", "FAILED"]);
    expect(c.openWindows).toBe(0);
    // Other keys' windows are left alone.
    c.push("x", "1");
    c.push("x", "2");
    c.push("y", "CANCELLED", true);
    vi.advanceTimersByTime(100);
    expect(sent.slice(-3)).toEqual([
      ["x", "1"],
      ["y", "CANCELLED"],
      ["x", "2"],
    ]);
  });

  it("flush sends what is pending; drop forgets a key", () => {
    const sent: [string, number][] = [];
    const c = new UpdateCoalescer<number>((k, v) => sent.push([k, v]), 100);
    c.push("a", 1);
    c.push("a", 2);
    c.push("b", 1);
    c.push("b", 2);
    c.drop("b");
    c.flush();
    expect(sent).toEqual([
      ["a", 1],
      ["b", 1],
      ["a", 2],
    ]);
    expect(c.openWindows).toBe(0);
  });

  it("keeps delivering after an emit threw, from a push or from a window's timer", () => {
    const sent: number[] = [];
    const errors: string[] = [];
    let failNext = true;
    const c = new UpdateCoalescer<number>(
      (_k, v) => {
        if (failNext) {
          failNext = false;
          throw new Error(`emit ${v} failed`);
        }
        sent.push(v);
      },
      100,
      (err, key) => errors.push(`${key}: ${(err as Error).message}`),
    );
    expect(() => c.push("a", 1)).toThrow(/emit 1 failed/);
    c.push("a", 2);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([2]);
    c.push("a", 3);
    failNext = true;
    c.push("a", 4);
    expect(() => vi.advanceTimersByTime(100)).not.toThrow();
    expect(errors).toEqual(["a: emit 4 failed"]);
    c.push("a", 5);
    expect(sent).toEqual([2, 3, 5]);
  });
});
