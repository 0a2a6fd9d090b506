/** The REST API's history and metrics routes (docs/api.md) over HTTP against the real server, memory storage. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, startApiServer } from "./api-server";
import type { TestServer } from "./helpers";

let server: TestServer;

beforeAll(async () => {
  ({ server } = await startApiServer());
});
afterAll(async () => {
  await server?.close();
});

const { get, json } = apiClient(() => server.url);

describe("GET /api/history", () => {
  it("lists summaries newest first, with limit and since", async () => {
    const { status, body } = await json("/api/history?limit=1");
    expect(status).toBe(200);
    expect((body.items as unknown[]).length).toBe(1);
    const future = await json(`/api/history?since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(future.body.items).toEqual([]);
    expect((await json("/api/history?since=2020-01-01")).status).toBe(200);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["since=yesterday", "since"],
    ["since=2026-13-45", "since"],
  ])("answers 400 naming the parameter for %s", async (query, name) => {
    const { status, body } = await json(`/api/history?${query}`);
    expect(status).toBe(400);
    expect(body.error).toMatch(new RegExp(`^${name}\\b`));
  });
});

describe("GET /api/metrics", () => {
  it("answers PipelineMetrics for the default 7 days and for ?days=", async () => {
    const { status, body } = await json("/api/metrics");
    expect(status).toBe(200);
    expect(body.days).toBe(7);
    expect((body.daily as unknown[]).length).toBe(7);
    expect((body.busiestHours as unknown[]).length).toBe(24);
    expect(body.failed).toBeGreaterThanOrEqual(1);
    expect((await json("/api/metrics?days=90")).body.days).toBe(90);
  });

  it.each(["days=0", "days=91", "days=1.5", "days=x"])("answers 400 for %s", async (query) => {
    const { status, body } = await json(`/api/metrics?${query}`);
    expect(status).toBe(400);
    expect(body.error).toMatch(/^days\b/);
  });
});

describe("GET /api/metrics/prometheus", () => {
  it("exposes counters and histograms fed by the server's tracking listener", async () => {
    const res = await get("/api/metrics/prometheus");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain('pipewatch_pipelines_total{pipeline="etl-api",status="COMPLETED"} 1');
    expect(text).toContain('pipewatch_pipelines_total{pipeline="flaky-api",status="FAILED"} 1');
    expect(text).toMatch(/pipewatch_pipeline_duration_seconds_bucket\{le="\+Inf",pipeline="etl-api",status="COMPLETED"\} 1/);
    expect(text).toMatch(/pipewatch_pipeline_duration_seconds_count\{pipeline="etl-api",status="COMPLETED"\} 1/);
    expect(text).toMatch(/pipewatch_step_duration_seconds_count\{pipeline="etl-api",step="a",status="COMPLETED"\} 1/);
    expect(text).toMatch(/pipewatch_pipelines_running \d+/);
  });
});
