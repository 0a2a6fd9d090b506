/**
 * One write transaction: the operations queued since the last flush, applied in order to the runs
 * they touch, held in memory for the length of the transaction (a run's row is read once and
 * written once however many of its steps changed). `BEGIN IMMEDIATE` takes the database's write
 * lock before the first read, so every check-then-write here (a step never moving backwards, the
 * compare-and-set of a run's end, a lease sweep) is atomic across processes.
 */
import { isFinished } from "../../models";
import { fromStoredRun, toStoredRun, type StoredRun, type StoredStep } from "../compact";
import { keepsStoredStep, stepRank } from "../step-order";
import { lostWorkerStatus } from "../lease-end";
import type { ExpiredLease, FinishOutcome } from "../types";
import { CorruptRecordError, decodeRow, rowParams, stepValues, type RunRow, type RunState } from "./records";
import { RollupDeltas, runDay } from "./rollups";
import type { BatchStatements } from "./statements";

/** A change this batch wrote, announced to this process's subscribers once it committed. */
export interface WrittenChange {
  pipelineId: string;
  version: number;
  origin: string | null;
  /** The run after the write (an immutable snapshot); null when it was deleted. */
  run: StoredRun | null;
}

/** What a run's row needs written: all of it, only its steps (and summary), only its lease. */
const FULL = 1;
const STEPS = 2;
const LEASE = 4;

interface Dirty {
  write: number;
  /** False for a lease renewal alone: nobody needs to hear of it. */
  announce: boolean;
  /** The origin of the writes, or null when writers of different origins touched the run. */
  origin: string | null | undefined;
}

export class WriteBatch {
  private readonly dirty = new Map<string, Dirty>();
  private readonly rollups = new RollupDeltas();
  private readonly counts = new Map<string, number>();
  private dbNow: number | undefined;
  readonly written: WrittenChange[] = [];
  /** Every run this batch read or wrote: the queue forgets those that ended. */
  readonly seen = new Set<string>();

  constructor(
    private readonly st: BatchStatements,
    /**
     * Runs as this process last read or wrote them, kept across batches while no other process
     * wrote (write-queue.ts checks); states in it are changed in place by a batch, so a failed
     * batch must drop it.
     */
    private readonly runs: Map<string, RunState | null>,
    /** This storage instance's id in the changes table: its poller skips what it announced itself. */
    private readonly writer: string,
    private readonly ttlMs: number | null,
  ) {}

  /** The database's clock, read once per batch: leases are judged by it, never by a host's. */
  now(): number {
    return (this.dbNow ??= Number(this.st.now.get()));
  }

  save(run: StoredRun, origin: string | undefined): void {
    const old = this.loadLoose(run.pipelineId);
    const finished = isFinished(run.status);
    this.put(run.pipelineId, old, {
      run,
      leaseWorker: finished ? null : (old?.leaseWorker ?? null),
      leaseUntil: finished ? null : (old?.leaseUntil ?? null),
      expireAt: finished && this.ttlMs !== null ? Date.now() + this.ttlMs : null,
    });
    this.touch(run.pipelineId, origin, true, FULL);
  }

  step(pipelineId: string, stored: StoredStep, origin: string | undefined): void {
    const state = this.load(pipelineId);
    if (!state) return;
    const steps = state.run.steps;
    const index = steps.findIndex((s) => s.stepName === stored.stepName);
    if (index >= 0 && stepRank(steps[index]!.status) > stepRank(stored.status)) return;
    const day = runDay(state.run);
    const next = steps.slice();
    if (index >= 0) {
      this.rollups.step(day, steps[index]!, -1);
      next[index] = stored;
    } else next.push(stored);
    this.rollups.step(day, stored, 1);
    state.run = { ...state.run, steps: next };
    this.touch(pipelineId, origin, true, STEPS);
  }

  /** The compare-and-set of a run's end: only a stored run still PENDING or RUNNING takes it. */
  finish(run: StoredRun, origin: string | undefined): FinishOutcome {
    if (!isFinished(run.status)) throw new TypeError(`finishStatus needs a finished status, not ${run.status}`);
    const state = this.load(run.pipelineId);
    if (!state) return { applied: false, current: null };
    if (isFinished(state.run.status)) return { applied: false, current: fromStoredRun(state.run) };
    const ended = new Map(state.run.steps.map((s) => [s.stepName, s]));
    let kept = false;
    const steps = run.steps.map((step) => {
      const held = ended.get(step.stepName);
      if (!held || !keepsStoredStep(held.status, step.status)) return step;
      kept = true;
      return held;
    });
    const final = kept ? { ...run, steps } : run;
    this.save(final, origin);
    return { applied: true, current: fromStoredRun(final) };
  }

  delete(pipelineId: string, origin: string | undefined): boolean {
    const old = this.loadLoose(pipelineId);
    if (!old) return false;
    this.rollups.run(old.run, -1);
    this.drop(pipelineId, old, origin);
    return true;
  }

  renew(pipelineIds: readonly string[], leaseMs: number, workerId: string): void {
    for (const id of pipelineIds) {
      const state = this.load(id);
      if (!state || isFinished(state.run.status)) continue;
      state.leaseWorker = workerId;
      state.leaseUntil = this.now() + leaseMs;
      this.touch(id, undefined, false, LEASE);
    }
  }

  /** Ends every run whose lease expired by the database's clock, in this one transaction. */
  sweep(limit: number): ExpiredLease[] {
    this.writeOut();
    const now = this.now();
    const ended: ExpiredLease[] = [];
    for (const id of this.st.expiredLeases.all(now, limit) as string[]) {
      const state = this.loadLoose(id);
      if (!state) continue;
      const workerId = state.leaseWorker ?? "unknown";
      if (isFinished(state.run.status)) {
        state.leaseWorker = null;
        state.leaseUntil = null;
        this.touch(id, undefined, false, LEASE);
        continue;
      }
      // Origin empty: every manager, the sweeper's own included, hears of it.
      const outcome = this.finish(toStoredRun(lostWorkerStatus(fromStoredRun(state.run), workerId, now)), "");
      if (outcome.applied && outcome.current) ended.push({ status: outcome.current, workerId });
    }
    return ended;
  }

  /** Retention: finished runs started before the cutoff, oldest first. Rollups stay (history charts). */
  cleanup(cutoffMs: number, limit: number): number {
    this.writeOut();
    const ids = this.st.oldFinished.all(cutoffMs, limit) as string[];
    for (const id of ids) this.drop(id, this.loadLoose(id), undefined);
    return ids.length;
  }

  /** Runs past their time to live (`ttlSeconds`), like retention. */
  reap(limit: number): number {
    this.writeOut();
    const ids = this.st.expiredRuns.all(Date.now(), limit) as string[];
    for (const id of ids) this.drop(id, this.loadLoose(id), undefined);
    return ids.length;
  }

  /** Writes every run changed so far, its change row and the rollup and count deltas. */
  writeOut(): void {
    for (const [id, dirty] of this.dirty) {
      const state = this.runs.get(id) ?? null;
      let version = 0;
      if (dirty.announce) {
        // One change row per run: an older one says nothing the newest does not.
        this.st.dropChanges.run(id);
        version = Number(this.st.insertChange.run(id, state ? 0 : 1, dirty.origin ?? null, this.writer).lastInsertRowid);
      }
      if (!state) this.st.remove.run(id);
      else if (dirty.write & FULL) {
        const params = rowParams(state);
        state.bytes = (params.steps as string).length;
        this.st.upsert.run(params);
      } else {
        if (dirty.write & STEPS) {
          const values = stepValues(state.run);
          state.bytes = values[0].length;
          this.st.updateSteps.run(values);
        }
        if (dirty.write & LEASE) this.st.updateLease.run(state.leaseWorker, state.leaseUntil, id);
      }
      if (dirty.announce) this.written.push({ pipelineId: id, version, origin: dirty.origin ?? null, run: state?.run ?? null });
    }
    this.dirty.clear();
    for (const [status, n] of this.counts) if (n !== 0) this.st.count.run(status, n);
    this.counts.clear();
    if (this.rollups.size > 0) this.rollups.write(this.st.rollups);
  }

  private load(id: string): RunState | null {
    this.seen.add(id);
    let state = this.runs.get(id);
    if (state === undefined) {
      const row = this.st.select.get(id) as RunRow | undefined;
      state = row ? decodeRow(row) : null;
      this.runs.set(id, state);
    }
    return state;
  }

  /**
   * `load`, but a row that does not decode comes back with its scalar columns and no steps, so a
   * save can overwrite it, and retention, a delete or a sweep can still remove or end it.
   */
  private loadLoose(id: string): RunState | null {
    try {
      return this.load(id);
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw err;
      const row = this.st.select.get(id) as RunRow;
      const state = decodeRow({ ...row, steps: "[]", result: "null" });
      this.runs.set(id, state);
      return state;
    }
  }

  private put(id: string, old: RunState | null, next: RunState): void {
    if (old) {
      this.rollups.run(old.run, -1);
      this.counts.set(old.run.status, (this.counts.get(old.run.status) ?? 0) - 1);
    }
    this.rollups.run(next.run, 1);
    this.counts.set(next.run.status, (this.counts.get(next.run.status) ?? 0) + 1);
    this.runs.set(id, next);
    this.seen.add(id);
  }

  private drop(id: string, old: RunState | null, origin: string | undefined): void {
    if (!old) return;
    this.counts.set(old.run.status, (this.counts.get(old.run.status) ?? 0) - 1);
    this.runs.set(id, null);
    this.touch(id, origin, true, FULL);
  }

  private touch(id: string, origin: string | undefined, announce: boolean, write: number): void {
    const held = this.dirty.get(id);
    if (!held) {
      this.dirty.set(id, { write, announce, origin: announce ? (origin ?? null) : undefined });
      return;
    }
    held.write |= write;
    if (!announce) return;
    if (!held.announce) {
      held.announce = true;
      held.origin = origin ?? null;
    } else if (held.origin !== (origin ?? null)) held.origin = null;
  }
}
