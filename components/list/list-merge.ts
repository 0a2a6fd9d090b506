/**
 * Pure list arithmetic for the live run list: which rows a filter shows, and how fresh runs and
 * fetched pages merge into what is loaded. Order is the API's: newest start first, id breaking ties.
 */
import type { PipelineSummary, Status } from "@/lib/tracking/models";
import { statusRank } from "../ui/status-style";

export interface ListFilter {
  status: Status | null;
  q: string;
}

export function isFiltering(filter: ListFilter): boolean {
  return filter.status !== null || filter.q !== "";
}

export function matchesFilter(summary: PipelineSummary, filter: ListFilter): boolean {
  if (filter.status && summary.status !== filter.status) return false;
  if (!filter.q) return true;
  const q = filter.q.toLowerCase();
  return summary.pipelineId.toLowerCase().startsWith(q) || (summary.pipelineName ?? "").toLowerCase().startsWith(q);
}

export function byNewest(a: PipelineSummary, b: PipelineSummary): number {
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.pipelineId < b.pipelineId ? 1 : a.pipelineId > b.pipelineId ? -1 : 0;
}

/**
 * Row id → position, rebuilt only when rows were added, removed or reordered: a batch of in-place
 * updates to 10 000 loaded rows then costs a lookup per update, not a pass over every row.
 */
export class RowIndex {
  private rows: readonly PipelineSummary[] | null = null;
  private positions = new Map<string, number>();

  of(rows: readonly PipelineSummary[]): ReadonlyMap<string, number> {
    if (rows !== this.rows) {
      this.positions = new Map(rows.map((s, i) => [s.pipelineId, i]));
      this.rows = rows;
    }
    return this.positions;
  }

  /** `next` is `rows` with some entries replaced by the same runs' newer summaries. */
  sameShape(rows: readonly PipelineSummary[], next: readonly PipelineSummary[]): void {
    if (this.rows === rows) this.rows = next;
  }
}

/**
 * Fresh runs merged into their place in `current` (both newest first). With more pages still to
 * load (`complete` false), a fresh run older than the last loaded row is left to paging, so it is
 * neither shown out of order nor loaded twice.
 */
export function insertSorted(
  current: PipelineSummary[],
  fresh: PipelineSummary[],
  complete: boolean,
  index: RowIndex = new RowIndex(),
): PipelineSummary[] {
  if (fresh.length === 0) return current;
  const loaded = index.of(current);
  const last = current[current.length - 1];
  const added = fresh.filter((s) => !loaded.has(s.pipelineId) && (complete || !last || byNewest(s, last) < 0)).sort(byNewest);
  if (added.length === 0) return current;
  const first = current[0];
  // The usual case, new runs newer than everything loaded: they go on top.
  if (!first || byNewest(added[added.length - 1]!, first) < 0) return added.concat(current);
  const out: PipelineSummary[] = [];
  let i = 0;
  for (const row of current) {
    while (i < added.length && byNewest(added[i]!, row) < 0) out.push(added[i++]!);
    out.push(row);
  }
  while (i < added.length) out.push(added[i++]!);
  return out;
}

/** A fetched page over the rows we had: fetched order, the further-along status per run, and runs newer than the page kept on top. */
export function mergeSnapshot(current: PipelineSummary[], fetched: PipelineSummary[]): PipelineSummary[] {
  const byId = new Map(current.map((s) => [s.pipelineId, s]));
  const fetchedIds = new Set(fetched.map((s) => s.pipelineId));
  const merged = fetched.map((f) => {
    const c = byId.get(f.pipelineId);
    return c && statusRank(c.status) > statusRank(f.status) ? c : f;
  });
  const newest = fetched[0];
  const newer = current.filter((s) => !fetchedIds.has(s.pipelineId) && (!newest || byNewest(s, newest) < 0)).sort(byNewest);
  return newer.concat(merged);
}
