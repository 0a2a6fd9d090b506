/**
 * /api/metrics/prometheus as outside tools see it: `promtool check metrics` (Debian's `prometheus`
 * package) accepts it, process metrics included; and the counters only count runs that ended while
 * the server watched, never the back-filled week of history.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemoryBroker } from "../../lib/pipeline/broker";
import { backfillHistory } from "../../server/demo/backfill";
import { defineDemoPipelines } from "../../server/demo/definitions";
import { runQuickPipeline, startTestServer, type TestServer } from "./helpers";

const hasPromtool = spawnSync("sh", ["-c", "command -v promtool"]).status === 0;
let server: TestServer;
let backfilled = 0;

beforeAll(async () => {
  server = await startTestServer({ processMetrics: true });
  const demos = defineDemoPipelines(new InMemoryBroker(), server.tracking);
  backfilled = await backfillHistory(server.tracking.storage, demos, { days: 7 });
  await runQuickPipeline(server.broker, server.tracking, "live-one");
  await runQuickPipeline(server.broker, server.tracking, "live-two", true);
});
afterAll(async () => {
  await server?.close();
});

const exposition = async () => (await fetch(`${server.url}/api/metrics/prometheus`)).text();

function sum(text: string, metric: string): number {
  const line = new RegExp(`^${metric}(\\{[^}]*\\})? (\\S+)$`, "gm");
  return [...text.matchAll(line)].reduce((total, m) => total + Number(m[2]), 0);
}

describe("counters and history", () => {
  it("count the runs that ended while the server watched, not the back-filled ones", async () => {
    expect(backfilled).toBeGreaterThan(50);
    const text = await exposition();
    expect(sum(text, "pipewatch_pipelines_total")).toBe(2);
    expect(text).toContain('pipewatch_pipelines_total{pipeline="live-one",status="COMPLETED"} 1');
    expect(text).toContain('pipewatch_pipelines_total{pipeline="live-two",status="FAILED"} 1');
    expect(sum(text, "pipewatch_pipeline_duration_seconds_count")).toBe(2);
    // The history is in the storage all the same.
    const counts = (await (await fetch(`${server.url}/api/pipelines?limit=1`)).json()) as { counts: Record<string, number> };
    expect(Object.values(counts.counts).reduce((a, b) => a + b, 0)).toBe(backfilled + 2);
  });
});

describe.skipIf(!hasPromtool)(
  `promtool check metrics${hasPromtool ? "" : " (skipped: promtool is not installed; apt-get install -y prometheus)"}`,
  () => {
    it("exits 0 with nothing to say, default process metrics included", async () => {
      const text = await exposition();
      expect(text).toContain("pipewatch_process_cpu_seconds_total");
      expect(text).not.toMatch(/^pipewatch_nodejs_active_\w+_total/m);
      const res = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(res.stdout + res.stderr).toBe("");
      expect(res.status).toBe(0);
    });
  },
);
