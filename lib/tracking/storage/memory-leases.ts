/**
 * The memory storage's leases, on this process's clock (the store and every writer share it): a
 * run's lease is lost once the clock passes its expiry.
 */
export class MemoryLeases {
  private readonly leases = new Map<string, { expiresAtMs: number; workerId: string }>();

  /** Renews the leases of the ids `isRunning` accepts (a run that ended is never leased again). */
  renew(pipelineIds: readonly string[], expiresAtMs: number, workerId: string, isRunning: (pipelineId: string) => boolean): void {
    for (const id of pipelineIds) if (isRunning(id)) this.leases.set(id, { expiresAtMs, workerId });
  }

  /** Takes out every lease expired at `nowMs`. */
  takeExpired(nowMs: number): { pipelineId: string; workerId: string }[] {
    const expired: { pipelineId: string; workerId: string }[] = [];
    for (const [pipelineId, lease] of this.leases) {
      if (lease.expiresAtMs > nowMs) continue;
      this.leases.delete(pipelineId);
      expired.push({ pipelineId, workerId: lease.workerId });
    }
    return expired;
  }

  drop(pipelineId: string): void {
    this.leases.delete(pipelineId);
  }
}
