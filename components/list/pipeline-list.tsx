"use client";
/**
 * The live, virtualized run list. Only the rows in view are in the DOM, so 10 000 loaded runs
 * scroll like 50. New runs go straight to the top only when the user is at the top and not
 * pointing at a row; otherwise they wait behind a "N new runs" pill, so nothing moves under the
 * cursor.
 */
import { useWindowVirtualizer } from "@tanstack/react-virtual";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Status } from "@/lib/tracking/models";
import type { PipelinePage } from "../api/api-client";
import { EmptyState } from "./empty-state";
import { PipelineListHeader, PipelineRow } from "./pipeline-row";
import { SearchBox } from "./search-box";
import { StatusTabs } from "./status-tabs";
import { usePipelineList, type ListFilter, type ListViewport } from "./use-pipeline-list";

const ROW_HEIGHT = 52;
const TOP_SLACK_PX = 8;
const rowHeight = () => ROW_HEIGHT;

export function PipelineList({ initial, status, q }: { initial: PipelinePage; status: Status | null; q: string }) {
  const listRef = useRef<HTMLDivElement>(null);
  const hovering = useRef(false);
  const [scrollMargin, setScrollMargin] = useState(0);
  const [filter, setFilter] = useState<ListFilter>({ status, q });
  if (filter.status !== status || filter.q !== q) setFilter({ status, q });

  // Kept from scroll events: reading window.scrollY while a batch is applied would force a layout.
  const scrolledToTop = useRef(true);
  const viewport = useMemo<ListViewport>(() => ({ atTop: () => scrolledToTop.current, pointerInside: () => hovering.current }), []);
  const list = usePipelineList(initial, filter, viewport);
  const { items, held, leaving, showHeld } = list;

  useLayoutEffect(() => {
    const measure = () => setScrollMargin(listRef.current ? listRef.current.getBoundingClientRect().top + window.scrollY : 0);
    measure();
    window.addEventListener("resize", measure);
    return () => window.removeEventListener("resize", measure);
  }, []);

  useEffect(() => {
    const onScroll = () => {
      scrolledToTop.current = window.scrollY <= TOP_SLACK_PX;
    };
    onScroll();
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => window.removeEventListener("scroll", onScroll);
  }, []);

  // Recomputed per batch: the virtualizer's O(rows) position pass costs ~0.2 ms at 10 000 rows.
  const getItemKey = useCallback((i: number) => items[i]?.pipelineId ?? i, [items]);
  const virtualizer = useWindowVirtualizer({
    count: items.length,
    estimateSize: rowHeight,
    overscan: 12,
    scrollMargin,
    getItemKey,
    initialRect: { width: 1200, height: 1000 },
  });

  // Held runs are released as soon as the user is back at the top with the pointer away.
  useLayoutEffect(() => {
    if (held.length === 0) return;
    const onScroll = () => {
      if (viewport.atTop() && !viewport.pointerInside()) showHeld();
    };
    window.addEventListener("scroll", onScroll, { passive: true });
    return () => window.removeEventListener("scroll", onScroll);
  }, [held.length, viewport, showHeld]);

  const revealHeld = () => {
    showHeld();
    window.scrollTo({ top: 0 });
  };

  const filtered = status !== null || q !== "";
  return (
    <div className="space-y-4">
      <div className="flex flex-col gap-3 lg:flex-row lg:items-center lg:justify-between">
        <StatusTabs active={status} q={q} counts={list.counts} />
        <SearchBox status={status} q={q} />
      </div>
      <div className="card relative">
        {held.length > 0 && (
          <div className="sticky top-16 z-20 flex justify-center">
            <button type="button" onClick={revealHeld} className="btn -mt-3 rounded-full shadow-md" data-testid="new-runs-pill">
              ↑ {held.length} new run{held.length === 1 ? "" : "s"}
            </button>
          </div>
        )}
        <div role="table" aria-label="Pipeline runs" aria-rowcount={items.length + 1}>
          <PipelineListHeader />
          <div
            ref={listRef}
            role="rowgroup"
            style={{ height: virtualizer.getTotalSize(), position: "relative" }}
            onMouseEnter={() => (hovering.current = true)}
            onMouseLeave={() => {
              hovering.current = false;
              list.settle();
            }}
          >
            {virtualizer.getVirtualItems().map((row) => {
              const summary = items[row.index];
              if (!summary) return null;
              return (
                <PipelineRow
                  key={row.key}
                  summary={summary}
                  leaving={leaving.has(summary.pipelineId)}
                  rowIndex={row.index + 2}
                  top={row.start - scrollMargin}
                  height={row.size}
                />
              );
            })}
          </div>
        </div>
        {/* Outside the table: a table may only hold rows (axe: aria-required-children). */}
        {items.length === 0 && <EmptyState filtered={filtered} />}
      </div>
      <div className="flex items-center justify-between text-sm text-subtle">
        <span data-testid="loaded-count">
          {items.length} run{items.length === 1 ? "" : "s"} loaded
        </span>
        {list.loadError && (
          <span role="alert" className="text-danger">
            Could not load more: {list.loadError}
          </span>
        )}
        {list.nextCursor && (
          <button type="button" className="btn" onClick={() => void list.loadMore()} disabled={list.loadingMore} data-testid="load-more">
            {list.loadingMore ? "Loading…" : "Load more"}
          </button>
        )}
      </div>
    </div>
  );
}
