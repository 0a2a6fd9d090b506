/** The REST API (docs/api.md) over HTTP against the real server, memory storage. */
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineStatus } from "../../lib/tracking/models";
import { gatedPipeline, runQuickPipeline, startTestServer, type TestServer } from "./helpers";

let server: TestServer;
let completedId: string;
let failedId: string;

beforeAll(async () => {
  server = await startTestServer();
  completedId = await runQuickPipeline(server.broker, server.tracking, "etl-api");
  failedId = await runQuickPipeline(server.broker, server.tracking, "flaky-api", true);
});
afterAll(async () => {
  await server?.close();
});

const get = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init);
async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await get(path, init);
  expect(res.headers.get("content-type")).toContain("application/json");
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("GET /api/pipelines", () => {
  it("pages summaries newest first with counts, and no results in items", async () => {
    const { status, body } = await json("/api/pipelines");
    expect(status).toBe(200);
    const items = body.items as Record<string, unknown>[];
    expect(items.map((i) => i.pipelineId)).toEqual([failedId, completedId]);
    expect(items[0]).toMatchObject({ status: "FAILED", stepsTotal: 2, stepsCompleted: 1, stepsFailed: 1, pipelineName: "flaky-api" });
    expect(items[0]!.error).toContain("boom");
    expect(items[0]).not.toHaveProperty("steps");
    expect(items[0]).not.toHaveProperty("result");
    expect(body.nextCursor).toBeNull();
    expect(body.counts).toMatchObject({ COMPLETED: 1, FAILED: 1, RUNNING: 0, PENDING: 0, CANCELLED: 0 });
  });

  it("filters by status and q, and pages with a cursor", async () => {
    expect(((await json("/api/pipelines?status=COMPLETED")).body.items as unknown[]).length).toBe(1);
    const byName = await json("/api/pipelines?q=ETL-a");
    expect((byName.body.items as { pipelineId: string }[]).map((i) => i.pipelineId)).toEqual([completedId]);
    const first = await json("/api/pipelines?limit=1");
    expect((first.body.items as unknown[]).length).toBe(1);
    expect(typeof first.body.nextCursor).toBe("string");
    const second = await json(`/api/pipelines?limit=1&cursor=${encodeURIComponent(first.body.nextCursor as string)}`);
    expect((second.body.items as { pipelineId: string }[])[0]!.pipelineId).toBe(completedId);
    expect(second.body.nextCursor).toBeNull();
    // An empty value counts as absent (`?status=&q=` is what a cleared search form sends).
    expect((await json("/api/pipelines?status=&q=&limit=&cursor=")).status).toBe(200);
  });

  it.each([
    ["status=DONE", "status"],
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=abc", "limit"],
    ["limit=-1", "limit"],
    ["cursor=not-a-cursor", "cursor"],
    [`q=${"x".repeat(201)}`, "q"],
  ])("answers 400 naming the parameter for %s", async (query, name) => {
    const { status, body } = await json(`/api/pipelines?${query}`);
    expect(status).toBe(400);
    expect(body.error).toMatch(new RegExp(`^${name}\\b`));
  });
});

describe("GET /api/pipelines/{id} and /status", () => {
  it("returns the full status with step results", async () => {
    for (const path of [`/api/pipelines/${completedId}`, `/api/pipelines/${completedId}/status`]) {
      const { status, body } = await json(path);
      expect(status).toBe(200);
      const run = body as unknown as PipelineStatus;
      expect(run.pipelineId).toBe(completedId);
      expect(run.status).toBe("COMPLETED");
      expect(run.steps.map((s) => [s.stepName, s.status, s.result])).toEqual([
        ["a", "COMPLETED", { ok: true }],
        ["b", "COMPLETED", { done: 1 }],
      ]);
      expect(typeof run.startedAt).toBe("string");
    }
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    expect((await json("/api/pipelines/no-such-run")).status).toBe(404);
    expect((await json("/api/pipelines/no-such-run/status")).status).toBe(404);
    const bad = await json(`/api/pipelines/${encodeURIComponent("bad id!")}`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^id\b/);
    expect((await json(`/api/pipelines/${"a".repeat(201)}/status`)).status).toBe(400);
  });
});

describe("POST /api/pipelines/{id}/cancel", () => {
  it("cancels a running run (202), then 409, and 404 for an unknown one", async () => {
    const { pipeline } = gatedPipeline(server.broker, server.tracking, "cancel-me");
    const task = await pipeline.kiq();
    const res = await json(`/api/pipelines/${task.pipelineId}/cancel`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe("CANCELLED");
    expect((res.body.steps as { status: string }[]).map((s) => s.status)).toEqual(["CANCELLED", "CANCELLED"]);
    expect((await task.waitResult({ timeoutMs: 2_000 })).isErr).toBe(true);
    const again = await json(`/api/pipelines/${task.pipelineId}/cancel`, { method: "POST" });
    expect(again.status).toBe(409);
    expect(again.body.error).toContain("already finished");
    expect((await json("/api/pipelines/unknown-run/cancel", { method: "POST" })).status).toBe(404);
    expect((await json("/api/pipelines/bad%20id/cancel", { method: "POST" })).status).toBe(400);
  });

  it("answers 400 to a malformed JSON body", async () => {
    const res = await json(`/api/pipelines/${completedId}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^body\b/);
  });
});

describe("DELETE /api/pipelines/{id}", () => {
  it("deletes (204), then 404", async () => {
    const id = await runQuickPipeline(server.broker, server.tracking, "delete-me");
    const res = await get(`/api/pipelines/${id}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await server.tracking.getStatus(id)).toBeNull();
    expect((await get(`/api/pipelines/${id}`, { method: "DELETE" })).status).toBe(404);
    expect((await get("/api/pipelines/bad%20id", { method: "DELETE" })).status).toBe(400);
  });
});

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

describe("GET /api/health and unknown paths", () => {
  it("is healthy with the storage kind", async () => {
    const { status, body } = await json("/api/health");
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "healthy", storage: "memory" });
    expect(typeof body.uptimeSeconds).toBe("number");
  });

  it("answers unknown /api paths with a JSON 404, never HTML", async () => {
    for (const [path, method] of [
      ["/api/nope", "GET"],
      ["/api/pipelines/x/y/z", "GET"],
      ["/api/nope", "POST"],
      ["/api/metrics/other", "DELETE"],
    ] as const) {
      const { status, body } = await json(path, { method });
      expect(status).toBe(404);
      expect(typeof body.error).toBe("string");
    }
  });

  it("echoes a request id", async () => {
    const res = await get("/api/health", { headers: { "x-request-id": "trace-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-123");
    expect((await get("/api/health")).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the bundling trap", () => {
  it("serves, through the API and through Next's server-rendered page, the runs the server process's manager records", async () => {
    const { pipeline, release } = gatedPipeline(server.broker, server.tracking, "trap");
    const task = await pipeline.kiq();
    const running = await json(`/api/pipelines/${task.pipelineId}`);
    expect(running.status).toBe(200);
    expect(running.body.status).toBe("RUNNING");
    const page = await get(`/pipelines/${task.pipelineId}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/data-testid="pipeline-status"[^>]*>RUNNING</);
    await release("first");
    await release("second");
    await task.waitResult({ timeoutMs: 5_000 });
    const done = await json(`/api/pipelines/${task.pipelineId}`);
    expect(done.body.status).toBe("COMPLETED");
    expect(await (await get(`/pipelines/${task.pipelineId}`)).text()).toMatch(/data-testid="pipeline-status"[^>]*>COMPLETED</);
    const health = await json("/api/health");
    expect(health.body.storage).toBe("memory");
  });
});

describe("the router", () => {
  it("answers another method with a JSON 405 naming the allowed ones, OPTIONS with them, HEAD like GET", async () => {
    const put = await json("/api/pipelines", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.body.error).toBe("Method PUT is not allowed here");
    const post = await get(`/api/pipelines/${completedId}`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, DELETE, HEAD, OPTIONS");
    expect((await json("/api/pipelines/x/cancel", { method: "GET" })).status).toBe(405);
    const options = await get("/api/metrics", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    const head = await get("/api/health", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toContain("application/json");
    expect(await head.text()).toBe("");
  });

  it("sends no-store, a content length, and takes a trailing slash", async () => {
    const res = await get("/api/pipelines/", { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(Number(res.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    expect((await json("/api/pipelines/bad%ZZid")).body.error as string).toMatch(/^id\b/);
    expect((await json("/api/")).status).toBe(404);
    expect((await json("/api")).status).toBe(404);
  });

  it("refuses a body over 16 KiB with a 413 and closes that connection", async () => {
    const res = await json(`/api/pipelines/${completedId}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(20_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/^body\b/);
    expect((await json("/api/health")).status).toBe(200);
  });
});

describe("compression", () => {
  function raw(
    path: string,
    headers: Record<string, string>,
    method = "GET",
  ): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("gzips a body over 1 KiB when the client accepts it, and only then", async () => {
    const plain = await raw("/api/metrics?days=7", {});
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(1_024);
    expect(plain.headers.vary).toBe("accept-encoding");
    const zipped = await raw("/api/metrics?days=7", { "accept-encoding": "br, gzip;q=0.8" });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(Number(zipped.headers["content-length"])).toBe(zipped.body.length);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 2);
    const decoded = JSON.parse(gunzipSync(zipped.body).toString("utf8")) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual(Object.keys(JSON.parse(plain.body.toString("utf8")) as object));
    for (const refused of ["gzip;q=0", "identity", "br", "gzip;q=0, *"]) {
      expect((await raw("/api/metrics?days=7", { "accept-encoding": refused })).headers["content-encoding"], refused).toBeUndefined();
    }
    expect((await raw("/api/metrics?days=7", { "accept-encoding": "*" })).headers["content-encoding"]).toBe("gzip");
    const head = await raw("/api/metrics?days=7", { "accept-encoding": "gzip" }, "HEAD");
    expect(head.headers["content-encoding"]).toBe("gzip");
    expect(head.body.length).toBe(0);
  });

  it("leaves a small body alone", async () => {
    const health = await raw("/api/health", { "accept-encoding": "gzip" });
    expect(health.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(health.body.toString("utf8"))).toMatchObject({ status: "healthy" });
  });
});
