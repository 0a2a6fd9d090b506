/** Browser-side calls to the dashboard's own API; errors carry the API's `{ error }` message. */
import type { PipelineStatusJSON, PipelineSummary, Status } from "@/lib/tracking/models";

export interface PipelinePage {
  items: PipelineSummary[];
  nextCursor: string | null;
  counts: Record<Status, number>;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export async function fetchJson<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, { cache: "no-store", credentials: "same-origin", ...init });
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const body = (await res.json()) as { error?: unknown };
      if (typeof body.error === "string") message = body.error;
    } catch {
      // Not JSON: keep the status line.
    }
    throw new ApiError(message, res.status);
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}

export function pipelinesUrl(query: { status?: Status | null; q?: string; limit?: number; cursor?: string | null }): string {
  const params = new URLSearchParams();
  if (query.status) params.set("status", query.status);
  if (query.q) params.set("q", query.q);
  if (query.limit) params.set("limit", String(query.limit));
  if (query.cursor) params.set("cursor", query.cursor);
  return `/api/pipelines?${params.toString()}`;
}

export function fetchPipeline(id: string): Promise<PipelineStatusJSON> {
  return fetchJson<PipelineStatusJSON>(`/api/pipelines/${encodeURIComponent(id)}`);
}
