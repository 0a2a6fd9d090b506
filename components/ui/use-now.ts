"use client";
/**
 * One shared clock for every ticking label (durations, "3 min ago"): a single interval while
 * anything listens. The server snapshot is 0, so server HTML and hydration agree and times that
 * depend on "now" appear right after hydration instead of mismatching.
 */
import { useSyncExternalStore } from "react";

const TICK_MS = 1000;
const listeners = new Set<() => void>();
let now = 0;
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

function getSnapshot(): number {
  if (now === 0) now = Date.now();
  return now;
}
const getServerSnapshot = () => 0;

/** Milliseconds since the epoch, refreshed every second; 0 during server render and hydration. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
}
