"use client";
/** The error boundary's face: what failed, and a retry that re-renders the segment. */
import { useRouter } from "next/navigation";
import { useTransition } from "react";

export function ErrorPanel({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  return (
    <div role="alert" className="card mx-auto mt-10 max-w-lg p-6" data-testid="error-panel">
      <h1 className="text-lg font-semibold">Something went wrong</h1>
      <p className="mt-1 text-sm text-subtle">
        The dashboard could not load this page. The server may be restarting or the storage unreachable.
      </p>
      <p className="mt-3 break-words rounded bg-zinc-100 p-2 font-mono text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
        {error.message || "Unknown error"}
        {error.digest ? ` (digest ${error.digest})` : ""}
      </p>
      <button
        type="button"
        className="btn mt-4"
        disabled={pending}
        onClick={() =>
          startTransition(() => {
            router.refresh();
            reset();
          })
        }
      >
        {pending ? "Retrying…" : "Retry"}
      </button>
    </div>
  );
}
