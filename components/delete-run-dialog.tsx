"use client";
/** Delete with a confirmation dialog (Radix: focus trapped, Escape closes), then back to the list. */
import * as Dialog from "@radix-ui/react-dialog";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { fetchJson } from "./api-client";

export function DeleteRunDialog({ pipelineId, onDeleting }: { pipelineId: string; onDeleting: () => void }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const remove = async () => {
    setBusy(true);
    setError(null);
    onDeleting();
    try {
      await fetchJson<void>(`/api/pipelines/${encodeURIComponent(pipelineId)}`, { method: "DELETE" });
      setOpen(false);
      router.push("/");
      router.refresh();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog.Root open={open} onOpenChange={setOpen}>
      <Dialog.Trigger asChild>
        <button type="button" className="btn text-rose-700 dark:text-rose-400" data-testid="delete-run">
          Delete
        </button>
      </Dialog.Trigger>
      <Dialog.Portal>
        <Dialog.Overlay className="fixed inset-0 z-40 bg-black/40" />
        <Dialog.Content className="card fixed left-1/2 top-1/2 z-50 w-[min(92vw,28rem)] -translate-x-1/2 -translate-y-1/2 p-6 focus:outline-none">
          <Dialog.Title className="text-lg font-semibold">Delete this run?</Dialog.Title>
          <Dialog.Description className="mt-2 break-all text-sm text-zinc-500">
            Run <span className="font-mono">{pipelineId}</span> and its step results are removed from the storage. A run still
            executing is cancelled first. This cannot be undone.
          </Dialog.Description>
          {error && (
            <p role="alert" className="mt-3 text-sm text-rose-600">
              {error}
            </p>
          )}
          <div className="mt-6 flex justify-end gap-2">
            <Dialog.Close asChild>
              <button type="button" className="btn">
                Keep it
              </button>
            </Dialog.Close>
            <button type="button" className="btn-danger" onClick={() => void remove()} disabled={busy} data-testid="confirm-delete">
              {busy ? "Deleting…" : "Delete run"}
            </button>
          </div>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
