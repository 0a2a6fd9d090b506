"use client";
/** Search by run id or name prefix; the query lives in `?q=` (debounced), so reload and links keep it. */
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState, useTransition } from "react";
import type { Status } from "@/lib/tracking/models";

const DEBOUNCE_MS = 250;

export function SearchBox({ status, q }: { status: Status | null; q: string }) {
  const router = useRouter();
  const [value, setValue] = useState(q);
  const [pending, startTransition] = useTransition();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => () => clearTimeout(timer.current), []);

  const navigate = (next: string) => {
    const params = new URLSearchParams();
    if (status) params.set("status", status);
    if (next.trim()) params.set("q", next.trim());
    const query = params.toString();
    startTransition(() => router.replace(query ? `/?${query}` : "/", { scroll: false }));
  };

  return (
    <form
      role="search"
      className="relative w-full sm:w-72"
      onSubmit={(e) => {
        e.preventDefault();
        clearTimeout(timer.current);
        navigate(value);
      }}
    >
      <label htmlFor="pipeline-search" className="sr-only">
        Search runs by id or name prefix
      </label>
      <input
        id="pipeline-search"
        type="search"
        value={value}
        placeholder="Search id or name prefix…"
        autoComplete="off"
        spellCheck={false}
        data-testid="pipeline-search"
        onChange={(e) => {
          const next = e.target.value;
          setValue(next);
          clearTimeout(timer.current);
          timer.current = setTimeout(() => navigate(next), DEBOUNCE_MS);
        }}
        className="w-full rounded-md border border-zinc-300 bg-white px-3 py-1.5 pr-8 text-sm shadow-sm placeholder:text-subtle dark:border-zinc-700 dark:bg-zinc-900 focus-ring"
      />
      {pending && (
        <span
          aria-hidden="true"
          className="absolute right-2.5 top-2 h-4 w-4 animate-spin rounded-full border-2 border-zinc-300 border-t-sky-500"
        />
      )}
    </form>
  );
}
