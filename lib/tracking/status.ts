/**
 * The five run and step statuses. Imports nothing, so the browser can take the values without the
 * rest of the model (its zod schemas); `models.ts` re-exports them.
 */
export const STATUSES = ["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;
export type Status = (typeof STATUSES)[number];

export function isFinished(status: Status): boolean {
  return status === "COMPLETED" || status === "FAILED" || status === "CANCELLED";
}
