"use client";
/**
 * Delete with a confirmation dialog (Radix: focus trapped, Escape closes), then back to the list.
 * A failed delete keeps the dialog open with the reason and a retry; the reason is also reported
 * up (shown beside the actions once the dialog is closed), and the page goes on following the run.
 */
import * as Dialog from "@radix-ui/react-dialog";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { ApiError, fetchJson } from "../api/api-client";

interface Props {
  pipelineId: string;
  /** true when the request starts, false when it failed. */
  onDeleting: (deleting: boolean) => void;
  /** The failure's message, or null when a new attempt starts. */
  onFailed: (message: string | null) => void;
}

export function DeleteRunDialog({ pipelineId, onDeleting, onFailed }: Props) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const remove = async () => {
    setBusy(true);
    setError(null);
    onFailed(null);
    onDeleting(true);
    try {
      await fetchJson<void>(`/api/pipelines/${encodeURIComponent(pipelineId)}`, { method: "DELETE" });
    } catch (err) {
      // 404: someone else deleted it first; the outcome the user asked for.
      if (!(err instanceof ApiError && err.status === 404)) {
        const message = err instanceof Error ? err.message : String(err);
        setError(message);
        onFailed(message);
        setBusy(false);
        onDeleting(false);
        return;
      }
    }
    setOpen(false);
    router.push("/");
    router.refresh();
  };

  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      <Dialog.Trigger asChild>
        <button type="button" className="btn text-danger" data-testid="delete-run">
          Delete
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-black/40" />
        <Dialog.Content className="card fixed left-1/2 top-1/2 z-50 w-[min(92vw,28rem)] -translate-x-1/2 -translate-y-1/2 p-6 focus:outline-none">
          <Dialog.Title className="text-lg font-semibold">Delete this run?</Dialog.Title>
          <Dialog.Description className="mt-2 break-all text-sm text-subtle">
            Run <span className="font-mono">{pipelineId}</span> and its step results are removed from the storage. A run still executing is
            cancelled first. This cannot be undone.
          </Dialog.Description>
          {error && (
            <p role="alert" className="mt-3 rounded-md bg-rose-50 p-2 text-sm text-danger dark:bg-rose-950/60" data-testid="delete-error">
              Could not delete: {error}
            </p>
          )}
          <div className="mt-6 flex justify-end gap-2">
            <Dialog.Close asChild>
              <button type="button" className="btn">
                Keep it
              </button>
            </Dialog.Close>
            <button type="button" className="btn-danger" onClick={() => void remove()} disabled={busy} data-testid="confirm-delete">
              {busy ? "Deleting…" : error ? "Try again" : "Delete run"}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
