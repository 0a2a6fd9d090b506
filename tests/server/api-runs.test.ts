/** The REST API's run routes (docs/api.md) over HTTP against the real server, memory storage: list, read, cancel, delete. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineStatus } from "../../lib/tracking/models";
import { apiClient, startApiServer } from "./api-server";
import { gatedPipeline, runQuickPipeline, type TestServer } from "./helpers";

let server: TestServer;
let completedId: string;
let failedId: string;

beforeAll(async () => {
  ({ server, completedId, failedId } = await startApiServer());
});
afterAll(async () => {
  await server?.close();
});

const { get, json } = apiClient(() => server.url);

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
