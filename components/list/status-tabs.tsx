"use client";
import Link from "next/link";
import type { Status } from "@/lib/tracking/models";
import { STATUS_ORDER } from "../ui/status-style";

function href(status: Status | null, q: string): string {
  const params = new URLSearchParams();
  if (status) params.set("status", status);
  if (q) params.set("q", q);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

/** Status filter tabs; the counts follow live updates. Links, so a filtered view is shareable. */
export function StatusTabs({ active, q, counts }: { active: Status | null; q: string; counts: Record<Status, number> }) {
  const total = STATUS_ORDER.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const tabs: { status: Status | null; label: string; count: number }[] = [
    { status: null, label: "All", count: total },
    ...STATUS_ORDER.map((s) => ({ status: s, label: s.charAt(0) + s.slice(1).toLowerCase(), count: counts[s] ?? 0 })),
  ];
  return (
    <nav aria-label="Filter by status" className="flex flex-wrap gap-1">
      {tabs.map((tab) => {
        const selected = tab.status === active;
        return (
          <Link
            key={tab.label}
            href={href(tab.status, q)}
            scroll={false}
            aria-current={selected ? "page" : undefined}
            data-testid={`status-tab-${tab.status ?? "ALL"}`}
            className={`inline-flex items-center gap-2 rounded-md px-3 py-1.5 text-sm font-medium focus-ring ${
              selected
                ? "bg-zinc-900 text-white dark:bg-white dark:text-zinc-900"
                : "text-muted hover:bg-zinc-200/60 dark:hover:bg-zinc-800"
            }`}
          >
            {tab.label}
            <span
              data-testid={`status-count-${tab.status ?? "ALL"}`}
              className={`rounded-full px-1.5 text-xs tabular-nums ${
                selected ? "bg-white/20 dark:bg-zinc-900/10" : "bg-zinc-200 dark:bg-zinc-800"
              }`}
            >
              {tab.count}
            </span>
          </Link>
        );
      })}
    </nav>
  );
}
