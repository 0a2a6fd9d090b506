"use client";
/**
 * The list page's state: the loaded rows (server-rendered first page, then "Load more"), live
 * updates merged in place, new runs held back while the user is reading lower down, status counts
 * kept fresh, and a full resync after every socket (re)connect.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import type { PipelineSummary, Status } from "@/lib/tracking/models";
import { fetchJson, pipelinesUrl, type PipelinePage } from "./api-client";
import { statusRank } from "./status-style";
import { usePipelineUpdates, type PipelineUpdateBatch } from "./use-pipeline-updates";
import { useResync } from "./use-resync";

export interface ListFilter {
  status: Status | null;
  q: string;
}

const PAGE_SIZE = 100;
const MAX_RESYNC = 500;
const COUNTS_REFRESH_MS = 1000;

export function matchesFilter(summary: PipelineSummary, filter: ListFilter): boolean {
  if (filter.status && summary.status !== filter.status) return false;
  if (!filter.q) return true;
  const q = filter.q.toLowerCase();
  return summary.pipelineId.toLowerCase().startsWith(q) || (summary.pipelineName ?? "").toLowerCase().startsWith(q);
}

const byNewest = (a: PipelineSummary, b: PipelineSummary) => b.startedAt.localeCompare(a.startedAt);

export function usePipelineList(initial: PipelinePage, filter: ListFilter, canInsertAtTop: () => boolean) {
  const [source, setSource] = useState(initial);
  const [items, setItemsState] = useState(initial.items);
  const [held, setHeldState] = useState<PipelineSummary[]>([]);
  const [nextCursor, setNextCursor] = useState(initial.nextCursor);
  const [counts, setCounts] = useState(initial.counts);
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  // Refs mirror the rows so a batch can decide synchronously (insert or hold) from the latest state.
  const itemsRef = useRef(items);
  const heldRef = useRef(held);
  const setItems = useCallback((next: PipelineSummary[]) => {
    itemsRef.current = next;
    setItemsState(next);
  }, []);
  const setHeld = useCallback((next: PipelineSummary[]) => {
    heldRef.current = next;
    setHeldState(next);
  }, []);

  // A new server render (the filter changed) replaces everything; adjusting state during render
  // is React's documented way to reset on a prop change without an extra paint.
  if (source !== initial) {
    setSource(initial);
    setItemsState(initial.items);
    setHeldState([]);
    setNextCursor(initial.nextCursor);
    setCounts(initial.counts);
    setLoadError(null);
  }
  useEffect(() => {
    itemsRef.current = initial.items;
    heldRef.current = [];
  }, [initial]);

  const countsTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshCounts = useCallback(() => {
    if (countsTimer.current) return;
    countsTimer.current = setTimeout(() => {
      countsTimer.current = undefined;
      fetchJson<PipelinePage>(pipelinesUrl({ limit: 1 }))
        .then((page) => setCounts(page.counts))
        .catch(() => undefined);
    }, COUNTS_REFRESH_MS);
  }, []);
  useEffect(() => () => clearTimeout(countsTimer.current), []);

  const applyBatch = useCallback(
    ({ updates, deletedIds }: PipelineUpdateBatch) => {
      if (updates.length === 0 && deletedIds.length === 0) return;
      refreshCounts();
      const deleted = new Set(deletedIds);
      const byId = new Map(updates.map((s) => [s.pipelineId, s]));
      const refresh = (rows: PipelineSummary[]) => {
        let changed = false;
        const next: PipelineSummary[] = [];
        for (const row of rows) {
          if (deleted.has(row.pipelineId)) {
            changed = true;
            continue;
          }
          const update = byId.get(row.pipelineId);
          if (update) {
            byId.delete(row.pipelineId);
            changed = true;
          }
          // Updated in place, even if it no longer matches the filter: rows never jump.
          next.push(update ?? row);
        }
        return changed ? next : rows;
      };
      const rows = refresh(itemsRef.current);
      const heldRows = refresh(heldRef.current);
      const fresh = [...byId.values()].filter((s) => matchesFilter(s, filter)).sort(byNewest);
      if (fresh.length > 0 && canInsertAtTop()) {
        setItems(mergeNew(rows, heldRows.concat(fresh).sort(byNewest)));
        if (heldRows.length > 0) setHeld([]);
        return;
      }
      if (rows !== itemsRef.current) setItems(rows);
      if (fresh.length > 0 || heldRows !== heldRef.current) setHeld(mergeNew(heldRows, fresh));
    },
    [filter, canInsertAtTop, refreshCounts, setItems, setHeld],
  );
  usePipelineUpdates(applyBatch);

  const showHeld = useCallback(() => {
    if (heldRef.current.length === 0) return;
    setItems(mergeNew(itemsRef.current, heldRef.current));
    setHeld([]);
  }, [setItems, setHeld]);

  const loadMore = useCallback(async () => {
    if (!nextCursor || loadingMore) return;
    setLoadingMore(true);
    setLoadError(null);
    try {
      const page = await fetchJson<PipelinePage>(pipelinesUrl({ ...filter, limit: PAGE_SIZE, cursor: nextCursor }));
      const seen = new Set(itemsRef.current.map((s) => s.pipelineId));
      setItems(itemsRef.current.concat(page.items.filter((s) => !seen.has(s.pipelineId))));
      setNextCursor(page.nextCursor);
      setCounts(page.counts);
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoadingMore(false);
    }
  }, [filter, nextCursor, loadingMore, setItems]);

  useResync(() => {
    const loaded = itemsRef.current.length;
    const limit = Math.min(MAX_RESYNC, Math.max(50, loaded));
    fetchJson<PipelinePage>(pipelinesUrl({ ...filter, limit }))
      .then((page) => {
        setCounts(page.counts);
        // Live events may have landed while the request was in flight: merge, never roll back.
        const merged = mergeSnapshot(itemsRef.current.concat(heldRef.current), page.items);
        setHeld([]);
        if (loaded <= MAX_RESYNC) {
          setItems(merged);
          setNextCursor(page.nextCursor);
        } else {
          const seen = new Set(merged.map((s) => s.pipelineId));
          setItems(merged.concat(itemsRef.current.slice(limit).filter((s) => !seen.has(s.pipelineId))));
        }
      })
      .catch(() => undefined);
  });

  return { items, counts, nextCursor, held, showHeld, loadMore, loadingMore, loadError };
}

function mergeNew(current: PipelineSummary[], fresh: PipelineSummary[]): PipelineSummary[] {
  if (fresh.length === 0) return current;
  const seen = new Set(current.map((s) => s.pipelineId));
  const added = fresh.filter((s) => !seen.has(s.pipelineId));
  return added.length === 0 ? current : added.concat(current);
}

/** A fetched page over the rows we had: fetched order, the further-along status per run, and runs newer than the page kept on top. */
function mergeSnapshot(current: PipelineSummary[], fetched: PipelineSummary[]): PipelineSummary[] {
  const byId = new Map(current.map((s) => [s.pipelineId, s]));
  const fetchedIds = new Set(fetched.map((s) => s.pipelineId));
  const merged = fetched.map((f) => {
    const c = byId.get(f.pipelineId);
    return c && statusRank(c.status) > statusRank(f.status) ? c : f;
  });
  const newest = fetched[0]?.startedAt ?? "";
  const newer = current.filter((s) => !fetchedIds.has(s.pipelineId) && s.startedAt > newest).sort(byNewest);
  return newer.concat(merged);
}
