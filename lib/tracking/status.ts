/**
 * The five run and step statuses. Imports nothing, so the browser can take the values without the
 * rest of the model (its zod schemas); `models.ts` re-exports them.
 */
export const STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;
export type Status = (typeof STATUSES)[number];

/** One letter per status, for compact per-step state strings (sealed memory runs, Redis summaries). */
export const STATUS_LETTER: Readonly<Record<Status, string>> = { PENDING: "P", RUNNING: "R", COMPLETED: "C", FAILED: "F", CANCELLED: "X" };
export const STATUS_OF_LETTER: Readonly<Record<string, Status>> = Object.fromEntries(STATUSES.map((s) => [STATUS_LETTER[s], s]));

export function isFinished(status: Status): boolean {
  return status === "COMPLETED" || status === "FAILED" || status === "CANCELLED";
}
