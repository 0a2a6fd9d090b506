"use client";
/** The header's live indicator: the text is exactly "live" only while the socket is connected. */
import { useSocket } from "./socket-provider";

const DOT: Record<string, string> = {
  live: "bg-emerald-500",
  reconnecting: "bg-amber-500 animate-pulse",
  offline: "bg-zinc-400",
};

export function ConnectionStatus() {
  const { state } = useSocket();
  const title = state === "live" ? "Receiving live updates" : state === "reconnecting" ? "Connection lost, reconnecting…" : "Not connected";
  return (
    <span
      className="inline-flex items-center gap-1.5 rounded-full border border-zinc-200 px-2.5 py-1 text-xs font-medium text-zinc-700 dark:border-zinc-700 dark:text-zinc-300"
      title={title}
      role="status"
      aria-live="polite"
    >
      <span className={`h-2 w-2 rounded-full ${DOT[state]}`} aria-hidden="true" />
      <span data-testid="connection-status">{state}</span>
    </span>
  );
}
