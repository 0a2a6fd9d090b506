"use client";
/** Metrics are aggregates, not a stream: re-render them from the server every 30 s and after a reconnect. */
import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { useResync } from "../live/use-resync";

const REFRESH_MS = 30_000;

export function MetricsAutoRefresh() {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => router.refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [router]);
  useResync(() => router.refresh());
  return null;
}
