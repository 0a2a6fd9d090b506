/** The `limit` of `cleanupOlderThan`, checked the same way by every built-in storage. */
export function checkCleanupLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError("limit must be a positive integer");
  return limit;
}
