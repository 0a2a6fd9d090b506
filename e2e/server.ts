/**
 * The e2e harness: the real production server (`startServer`, built app, `dev: false`) over memory
 * storage, with no random demo. Specs drive it through a small control endpoint on a separate
 * loopback port that exists only here, never in the production server:
 *
 *   POST /runs            { id, name, steps: [{ name, ms, fail?, dependsOn?, result? }] } → { pipelineId }
 *   POST /runs/wait       { id } → resolves when that run has ended
 *   POST /history         back-fills 7 days of finished runs (once; deterministic)
 *   POST /sockets/drop    disconnects every socket and refuses new ones
 *   POST /sockets/restore accepts sockets again
 *   POST /reads/delay     { ms } list reads answer that much later from now on (0: at once), so a
 *                         page's first rows stream after its shell, as on a loaded server
 *   POST /bulk            { count, prefix } stores that many finished runs, all started before now
 *   POST /stream          { perSecond, seconds, prefix, bulkPrefix, bulkCount } emits live `pipeline:update`s (bench/ui-live.ts)
 *   POST /workers/heartbeat { workerId, stopped?, pipelines? } records one heartbeat of a made-up worker
 *
 * The harness heartbeats itself as worker "e2e-worker" (server/process-worker.ts), like the demo server.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pino } from "pino";
import { InMemoryBroker } from "../lib/pipeline/broker";
import { Pipeline } from "../lib/pipeline/pipeline";
import type { PipelineTask } from "../lib/pipeline/task";
import { PipelineTrackingManager } from "../lib/tracking/manager";
import type { PipelineStatus, StepStatus } from "../lib/tracking/models";
import { InMemoryPipelineStorage } from "../lib/tracking/storage/memory";
import { startServer } from "../server/app-server";
import { startProcessWorker } from "../lib/workers/process-worker";
import type { PipelineDefinitionInfo } from "../lib/workers/types";
import { insertBulkRuns, streamUpdates } from "./bench-load";

interface StepSpec {
  name: string;
  ms: number;
  fail?: string;
  dependsOn?: string[];
  result?: unknown;
}
interface RunSpec {
  id: string;
  name: string;
  steps: StepSpec[];
}

// Both come from whoever starts the harness (playwright.config.ts takes them from the OS).
if (!process.env.PORT || !process.env.CONTROL_PORT) throw new Error("e2e/server.ts needs PORT and CONTROL_PORT");
const port = Number(process.env.PORT);
const controlPort = Number(process.env.CONTROL_PORT);
const logger = pino({ level: process.env.LOG_LEVEL ?? "warn" });
// Room for the UI benchmark's 10 000 bulk runs next to what the specs create.
const storage = new InMemoryPipelineStorage({ maxPipelines: 20_000 });
const broker = new InMemoryBroker({ workerId: "e2e-worker" });
const tracking = new PipelineTrackingManager({ logger }).withStorage(storage);
const server = await startServer({
  port,
  host: "127.0.0.1",
  tracking,
  dashboardToken: process.env.DASHBOARD_TOKEN || null,
  dev: false,
  logger,
  processMetrics: false,
});

/** What the runs started here so far looked like, by name: what this process reports it can run. */
const definitions = new Map<string, PipelineDefinitionInfo>();
const processWorker = startProcessWorker({
  broker,
  tracking,
  concurrency: 4,
  pipelines: () => [...definitions.values()],
  logger,
});

let socketsBlocked = false;
server.io.use((_socket, next) => (socketsBlocked ? next(new Error("sockets blocked by the e2e harness")) : next()));

const tasks = new Map<string, PipelineTask>();

let listDelayMs = 0;
const listPage = storage.listPage.bind(storage);
storage.listPage = async (query) => {
  if (listDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, listDelayMs));
  return listPage(query);
};

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new Error("aborted"));
      },
      { once: true },
    );
  });
}

async function startRun(spec: RunSpec): Promise<string> {
  let pipeline = new Pipeline(broker, { name: spec.name }) as Pipeline<unknown, unknown>;
  for (const step of spec.steps) {
    const fn = async (_input: unknown, ctx: { signal: AbortSignal }) => {
      await sleep(step.ms, ctx.signal);
      if (step.fail) throw new Error(step.fail);
      return step.result ?? { step: step.name, ok: true };
    };
    pipeline = step.dependsOn ? pipeline.step(step.name, fn, { dependsOn: step.dependsOn }) : pipeline.step(step.name, fn);
  }
  const task = await pipeline.withTracking(tracking).kiq({ spec: spec.id }, { pipelineId: spec.id });
  definitions.set(spec.name, pipeline.describe());
  tasks.set(spec.id, task);
  return task.pipelineId;
}

let historyDone = false;
/** Per UTC day of the last 7 (today included): 3 completed and 1 failed run, all in the past. */
async function backfillHistory(): Promise<number> {
  if (historyDone) return 0;
  historyDone = true;
  const now = Date.now();
  const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
  let count = 0;
  for (let day = 0; day < 7; day++) {
    const dayStart = today - day * 86_400_000;
    const usable = day === 0 ? Math.max(1_000, now - dayStart - 5_000) : 86_400_000;
    for (let i = 0; i < 4; i++) {
      const startedAt = new Date(dayStart + Math.floor((usable * (i + 1)) / 6));
      const failed = i === 3;
      const duration = 2_000 + i * 1_500 + day * 100;
      const mk = (name: string, offset: number, ms: number, status: StepStatus["status"], error: string | null): StepStatus => ({
        stepName: name,
        status,
        startedAt: new Date(startedAt.getTime() + offset),
        completedAt: new Date(startedAt.getTime() + offset + ms),
        durationMs: ms,
        result: status === "COMPLETED" ? { rows: 10 * (i + 1) } : null,
        error,
        dependsOn: [],
        attempts: 1,
        workerId: "e2e-history",
      });
      const status: PipelineStatus = {
        pipelineId: `history_d${day}_${i}`,
        pipelineName: "nightly-history",
        status: failed ? "FAILED" : "COMPLETED",
        pipelineType: "sequential",
        startedAt,
        completedAt: new Date(startedAt.getTime() + duration),
        durationMs: duration,
        result: failed ? null : { ok: true },
        error: failed ? (day % 2 === 0 ? "Upstream API timed out" : "Validation failed: 3 rows rejected") : null,
        steps: [
          mk("extract", 0, duration / 2, "COMPLETED", null),
          mk("load", duration / 2, duration / 2, failed ? "FAILED" : "COMPLETED", failed ? "boom" : null),
        ],
      };
      await storage.saveStatus(status);
      count++;
    }
  }
  return count;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

const control = createServer((req, res) => {
  void (async () => {
    const body = (await readBody(req)) as Record<string, unknown>;
    switch (`${req.method} ${req.url}`) {
      case "POST /runs":
        return reply(res, 201, { pipelineId: await startRun(body as unknown as RunSpec) });
      case "POST /runs/wait": {
        const task = tasks.get(String(body.id));
        if (!task) return reply(res, 404, { error: "unknown run" });
        await task.waitResult({ timeoutMs: 30_000 });
        return reply(res, 200, await tracking.getStatus(String(body.id)));
      }
      case "POST /history":
        return reply(res, 200, { inserted: await backfillHistory() });
      case "POST /sockets/drop":
        socketsBlocked = true;
        server.io.disconnectSockets(false);
        return reply(res, 200, { ok: true });
      case "POST /sockets/restore":
        socketsBlocked = false;
        return reply(res, 200, { ok: true });
      case "POST /reads/delay":
        listDelayMs = Math.max(0, Number(body.ms) || 0);
        return reply(res, 200, { ok: true });
      case "POST /bulk":
        return reply(res, 200, { inserted: await insertBulkRuns(storage, Number(body.count), String(body.prefix ?? "bulk")) });
      case "POST /stream":
        return reply(
          res,
          200,
          await streamUpdates(server.io, {
            perSecond: Number(body.perSecond),
            seconds: Number(body.seconds),
            prefix: String(body.prefix ?? "live"),
            bulkPrefix: String(body.bulkPrefix ?? "bulk"),
            bulkCount: Number(body.bulkCount ?? 0),
          }),
        );
      case "POST /workers/heartbeat":
        await storage.recordWorker(
          {
            workerId: String(body.workerId),
            hostname: "e2e-host",
            pid: 4242,
            startedAt: new Date(Date.now() - 60_000),
            concurrency: 8,
            active: [],
            processed: 3,
            failed: 1,
            pipelines: (body.pipelines as PipelineDefinitionInfo[] | undefined) ?? [],
          },
          { stopped: body.stopped === true },
        );
        return reply(res, 200, { ok: true });
      default:
        return reply(res, 404, { error: "no such control route" });
    }
  })().catch((err: unknown) => reply(res, 500, { error: err instanceof Error ? err.message : String(err) }));
});
control.listen(controlPort, "127.0.0.1");
console.log(`e2e harness: app ${server.url}, control http://127.0.0.1:${controlPort}`);

const shutdown = () => {
  control.close();
  void processWorker
    .stop()
    .then(() => server.close())
    .finally(() => process.exit(0));
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
