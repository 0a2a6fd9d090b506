import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UpdateCoalescer } from "../../server/update-coalescer";

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
    expect(sent).toEqual([["a", 1], ["b", 7]]);
    vi.advanceTimersByTime(100);
    expect(sent).toEqual([["a", 1], ["b", 7], ["a", 50]]);
    expect(c.openWindows).toBe(0);
    // After the window, the next change goes out at once and opens a new window.
    c.push("a", 51);
    c.push("a", 52);
    expect(sent.at(-1)).toEqual(["a", 51]);
    vi.advanceTimersByTime(100);
    expect(sent.at(-1)).toEqual(["a", 52]);
    expect(sent.length).toBe(5);
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
    expect(sent).toEqual([["a", 1], ["b", 1], ["a", 2]]);
    expect(c.openWindows).toBe(0);
  });

  it("keeps delivering after an emit threw, from a push or from a window's timer", () => {
    const sent: number[] = [];
    const errors: string[] = [];
    let failNext = true;
    const c = new UpdateCoalescer<number>((_k, v) => {
      if (failNext) {
        failNext = false;
        throw new Error(`emit ${v} failed`);
      }
      sent.push(v);
    }, 100, (err, key) => errors.push(`${key}: ${(err as Error).message}`));
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
