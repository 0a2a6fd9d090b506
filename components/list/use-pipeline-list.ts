"use client";
/**
 * The list page's state: the loaded rows (server-rendered first page, then "Load more"), live
 * updates merged in place, new runs held back while the user is reading lower down, rows that
 * stop matching the filter highlighted and then removed, status counts kept fresh, and a full
 * resync after every socket (re)connect.
 */
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { PipelineSummary } from "@/lib/tracking/models";
import { fetchJson, pipelinesUrl, type PipelinePage } from "../api/api-client";
import { insertSorted, isFiltering, matchesFilter, mergeSnapshot, RowIndex, type ListFilter } from "./list-merge";
import { usePipelineUpdates, type PipelineUpdateBatch } from "../live/use-pipeline-updates";
import { useResync } from "../live/use-resync";

export type { ListFilter } from "./list-merge";

/** What the list needs to know about the user, so nothing moves under their eyes or pointer. */
export interface ListViewport {
  /** Scrolled to the top: new runs may go straight in. */
  atTop(): boolean;
  /** The pointer is over the rows: nothing is inserted or removed until it leaves. */
  pointerInside(): boolean;
}

const PAGE_SIZE = 100;
const MAX_RESYNC = 500;
const COUNTS_REFRESH_MS = 1000;
/** How long a row that stopped matching the filter stays, highlighted, before it leaves. */
export const LEAVE_AFTER_MS = 1500;

const NO_IDS: ReadonlySet<string> = new Set();

export function usePipelineList(initial: PipelinePage, filter: ListFilter, viewport: ListViewport) {
  const [source, setSource] = useState(initial);
  const [items, setItemsState] = useState(initial.items);
  const [held, setHeldState] = useState<PipelineSummary[]>([]);
  const [leaving, setLeavingState] = useState(NO_IDS);
  const [nextCursor, setNextCursor] = useState(initial.nextCursor);
  const [counts, setCounts] = useState(initial.counts);
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  // Refs mirror the state so a batch can decide synchronously (insert, hold, leave) from the latest.
  const itemsRef = useRef(items);
  const heldRef = useRef(held);
  const cursorRef = useRef(nextCursor);
  /** Rows on their way out: id → when they may be removed. */
  const leaveAt = useRef(new Map<string, number>());
  const sweepTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const index = useRef(new RowIndex());

  const publishLeaving = useCallback(() => setLeavingState(leaveAt.current.size ? new Set(leaveAt.current.keys()) : NO_IDS), []);

  const sweepAgain = useRef<() => void>(() => undefined);
  const sweep = useCallback(() => {
    clearTimeout(sweepTimer.current);
    sweepTimer.current = undefined;
    if (leaveAt.current.size === 0 || viewport.pointerInside()) return; // retried when the pointer leaves
    const now = Date.now();
    const due = new Set<string>();
    let next = Infinity;
    for (const [id, at] of leaveAt.current) {
      if (at <= now) due.add(id);
      else next = Math.min(next, at);
    }
    if (due.size > 0) {
      for (const id of due) leaveAt.current.delete(id);
      itemsRef.current = itemsRef.current.filter((s) => !due.has(s.pipelineId));
      setItemsState(itemsRef.current);
      publishLeaving();
    }
    if (next !== Infinity) sweepTimer.current = setTimeout(() => sweepAgain.current(), next - now);
  }, [viewport, publishLeaving]);
  useEffect(() => {
    sweepAgain.current = sweep;
  }, [sweep]);

  /** Sets the rows; with a filter on, rows that no longer match start leaving and rows that match again stay. */
  const setItems = useCallback(
    (next: PipelineSummary[], changed?: Iterable<PipelineSummary>) => {
      itemsRef.current = next;
      setItemsState(next);
      if (!isFiltering(filter)) return;
      let touched = false;
      for (const row of changed ?? next) {
        const matches = matchesFilter(row, filter);
        if (!matches && !leaveAt.current.has(row.pipelineId)) {
          leaveAt.current.set(row.pipelineId, Date.now() + LEAVE_AFTER_MS);
          touched = true;
        } else if (matches && leaveAt.current.delete(row.pipelineId)) touched = true;
      }
      if (!touched) return;
      publishLeaving();
      if (!sweepTimer.current) sweepTimer.current = setTimeout(sweep, LEAVE_AFTER_MS);
    },
    [filter, publishLeaving, sweep],
  );
  const setHeld = useCallback((next: PipelineSummary[]) => {
    heldRef.current = next;
    setHeldState(next);
  }, []);
  const setCursor = useCallback((next: string | null) => {
    cursorRef.current = next;
    setNextCursor(next);
  }, []);

  // A new server render (the filter changed) replaces everything; adjusting state during render
  // is React's documented way to reset on a prop change without an extra paint.
  if (source !== initial) {
    setSource(initial);
    setItemsState(initial.items);
    setHeldState([]);
    setLeavingState(NO_IDS);
    setNextCursor(initial.nextCursor);
    setCounts(initial.counts);
    setLoadError(null);
  }
  // The refs follow a new first page in the same commit (a layout effect), and only when it is new:
  // resetting them on mount, or after a live batch already moved them on, would hand the next batch
  // a stale first page and make it insert its runs a second time.
  const refsSource = useRef(initial);
  useLayoutEffect(() => {
    if (refsSource.current === initial) return;
    refsSource.current = initial;
    itemsRef.current = initial.items;
    heldRef.current = [];
    cursorRef.current = initial.nextCursor;
    leaveAt.current.clear();
  }, [initial]);
  useEffect(() => () => clearTimeout(sweepTimer.current), []);

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
      const byId = new Map(updates.map((s) => [s.pipelineId, s]));
      const changedRows: PipelineSummary[] = [];
      const rows = updateInPlace(itemsRef.current, byId, deletedIds, changedRows, index.current);
      // A held run nobody has seen yet that stops matching just goes.
      const heldRows = updateHeld(heldRef.current, byId, deletedIds, filter);
      const fresh = [...byId.values()].filter((s) => matchesFilter(s, filter));
      if (fresh.length > 0 && viewport.atTop() && !viewport.pointerInside()) {
        setItems(insertSorted(rows, heldRows.concat(fresh), cursorRef.current === null, index.current), changedRows);
        if (heldRows.length > 0) setHeld([]);
        return;
      }
      if (rows !== itemsRef.current) setItems(rows, changedRows);
      if (fresh.length > 0 || heldRows !== heldRef.current) setHeld(insertSorted(heldRows, fresh, true));
    },
    [filter, viewport, refreshCounts, setItems, setHeld],
  );
  usePipelineUpdates(applyBatch);

  const showHeld = useCallback(() => {
    if (heldRef.current.length === 0) return;
    setItems(insertSorted(itemsRef.current, heldRef.current, cursorRef.current === null, index.current), []);
    setHeld([]);
  }, [setItems, setHeld]);

  /** The pointer left the rows: release what waited for it. */
  const settle = useCallback(() => {
    if (viewport.atTop()) showHeld();
    sweep();
  }, [viewport, showHeld, sweep]);

  const loadMore = useCallback(async () => {
    if (!nextCursor || loadingMore) return;
    setLoadingMore(true);
    setLoadError(null);
    try {
      const page = await fetchJson<PipelinePage>(pipelinesUrl({ ...filter, limit: PAGE_SIZE, cursor: nextCursor }));
      const seen = new Set(itemsRef.current.map((s) => s.pipelineId));
      setItems(itemsRef.current.concat(page.items.filter((s) => !seen.has(s.pipelineId))), []);
      setCursor(page.nextCursor);
      setCounts(page.counts);
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoadingMore(false);
    }
  }, [filter, nextCursor, loadingMore, setItems, setCursor]);

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
          setCursor(page.nextCursor);
        } else {
          const seen = new Set(merged.map((s) => s.pipelineId));
          setItems(merged.concat(itemsRef.current.slice(limit).filter((s) => !seen.has(s.pipelineId))));
        }
      })
      .catch(() => undefined);
  });

  return { items, counts, nextCursor, held, leaving, showHeld, settle, loadMore, loadingMore, loadError };
}

/**
 * Known rows take their update where they stand (a row that stops matching leaves later, through
 * setItems); updates used are taken out of `byId`, so what remains there is new to the list.
 */
function updateInPlace(
  rows: PipelineSummary[],
  byId: Map<string, PipelineSummary>,
  deletedIds: string[],
  changed: PipelineSummary[],
  index: RowIndex,
): PipelineSummary[] {
  const positions = index.of(rows);
  let next: PipelineSummary[] | null = null;
  for (const [id, update] of byId) {
    const at = positions.get(id);
    if (at === undefined) continue;
    next ??= rows.slice();
    next[at] = update;
    byId.delete(id);
    changed.push(update);
  }
  if (next) index.sameShape(rows, next);
  const gone = deletedIds.filter((id) => positions.has(id));
  if (gone.length === 0) return next ?? rows;
  const drop = new Set(gone);
  return (next ?? rows).filter((s) => !drop.has(s.pipelineId));
}

/** The held (not yet shown) runs: updated, and dropped when deleted or no longer matching. */
function updateHeld(
  held: PipelineSummary[],
  byId: Map<string, PipelineSummary>,
  deletedIds: string[],
  filter: ListFilter,
): PipelineSummary[] {
  if (held.length === 0) return held;
  const drop = new Set(deletedIds);
  let changed = false;
  const next: PipelineSummary[] = [];
  for (const row of held) {
    const update = byId.get(row.pipelineId);
    if (update) byId.delete(row.pipelineId);
    if (drop.has(row.pipelineId) || (update && !matchesFilter(update, filter))) {
      changed = true;
      continue;
    }
    if (update) changed = true;
    next.push(update ?? row);
  }
  return changed ? next : held;
}
