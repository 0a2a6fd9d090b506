/**
 * The Pipewatch server process (`npm start`, `npm run dev`): reads the environment (docs/environment.md),
 * builds the storage and tracking manager, starts the demo workload and the hourly retention,
 * serves Next.js + Socket.IO on one port, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { pino } from "pino";
import {
  InMemoryBroker,
  PipelineTrackingManager,
  InMemoryPipelineStorage,
  RedisPipelineStorage,
  SqlitePipelineStorage,
  SqliteStorageError,
  startProcessWorker,
  type ProcessWorker,
  type TrackingStorage,
} from "pipewatch";
import { startServer } from "./app-server";
import { ConfigError, readConfig, type ServerConfig } from "./config";
import { backfillHistory, isStoreEmpty } from "./demo/backfill";
import { startDemoWorkload, type DemoWorkload } from "./demo/workload";
import { createServerRedisFromEnv } from "./redis-client";
import { RETENTION_INTERVAL_MS, startRetention } from "./retention";

const SHUTDOWN_DEADLINE_MS = 5_000;
/** How long demo runs may finish on their own at shutdown: well inside the deadline above. */
const SHUTDOWN_GRACE_MS = 2_000;
const MEMORY_MAX_PIPELINES = 20_000;

const logger = pino({ name: "pipewatch", level: process.env.LOG_LEVEL ?? "info" });

/** A storage that cannot be used at start: the server prints why and exits 1. */
class StorageStartError extends Error {}

/** The storage the configuration names; a SQLite file that cannot be opened or written throws StorageStartError. */
function openSqlite(path: string): SqlitePipelineStorage {
  try {
    return new SqlitePipelineStorage({ path, logger: logger.child({ component: "storage" }) });
  } catch (err) {
    if (err instanceof SqliteStorageError) throw new StorageStartError(err.message);
    throw err;
  }
}

async function main(config: ServerConfig): Promise<void> {
  const redis = config.redis ? createServerRedisFromEnv(config.redis, logger) : null;
  if (config.redis) logger.info({ redis: config.redis.describe, keyPrefix: config.redis.prefix }, "using Redis storage");
  let storage: TrackingStorage;
  if (redis) {
    storage = new RedisPipelineStorage(redis, { keyPrefix: config.redis?.prefix, logger: logger.child({ component: "storage" }) });
  } else if (config.storage.kind === "sqlite") {
    storage = openSqlite(config.storage.path);
    logger.info({ path: config.storage.path }, "using SQLite storage");
  } else {
    storage = new InMemoryPipelineStorage({ maxPipelines: MEMORY_MAX_PIPELINES });
  }
  // The demo's broker shares a single-node connection only (its options take no Cluster); the
  // storage above is what the dashboard reads either way.
  const broker = new InMemoryBroker(redis && config.redis ? { redis, keyPrefix: config.redis.prefix } : {});
  const tracking = new PipelineTrackingManager({ logger: logger.child({ component: "tracking" }) }).withStorage(storage);

  // Signals are handled from here on, so a SIGTERM that arrives while the server is still starting
  // (listening, but not done) also ends in a clean shutdown.
  let demo: DemoWorkload | null = null;
  let demoWorker: ProcessWorker | null = null;
  let retention: ReturnType<typeof startRetention> | null = null;
  let shuttingDown = false;
  const started = startServer({
    port: config.port,
    host: config.host,
    tracking,
    dashboardToken: config.dashboardToken,
    dev: config.dev,
    logger,
    allowedOrigins: config.allowedOrigins,
    limits: config.limits,
  });
  const shutdown = (signal: string): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, "shutting down");
    const deadline = setTimeout(() => {
      logger.error("shutdown took longer than 5 s; exiting");
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    void (async () => {
      retention?.stop();
      demo?.stop();
      // The manager's shutdown closes a SQLite file, so there the last heartbeat is written first;
      // elsewhere it waits until the runs ended, so it lists no step still running here.
      if (storage.kind === "sqlite") await demoWorker?.stop();
      // Demo runs still going get a grace period, then end CANCELLED "worker shut down"; clients
      // still connected hear it before the server closes.
      await tracking.shutdown({ graceMs: SHUTDOWN_GRACE_MS });
      // After the runs ended, before Redis closes: the last heartbeat lists this process offline.
      await demoWorker?.stop();
      const server = await started.catch(() => null);
      await server?.close();
      if (redis && redis.status !== "end") await redis.quit().catch(() => redis.disconnect());
      logger.info("stopped");
      logger.flush();
      process.exit(0);
    })().catch((err: unknown) => {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    });
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  await started;
  if (shuttingDown) return;
  if (config.demo) {
    // Asked before the live demo records its first run: only an empty store gets the invented week.
    const empty = await isStoreEmpty(storage).catch((err: unknown) => {
      logger.warn({ err }, "could not tell whether the storage is empty; demo history not back-filled");
      return false;
    });
    if (shuttingDown) return;
    demo = startDemoWorkload(broker, tracking, logger.child({ component: "demo" }));
    const definitions = demo.pipelines.map((p) => p.pipeline.describe());
    demoWorker = startProcessWorker({
      broker,
      tracking,
      // The demo starts at most this many runs at once (each pipeline's cap), whatever their steps.
      concurrency: demo.pipelines.reduce((sum, p) => sum + p.maxConcurrent, 0),
      pipelines: () => definitions,
      logger: logger.child({ component: "worker" }),
    });
    if (empty) {
      backfillHistory(storage, demo.pipelines)
        .then((count) => logger.info({ count }, "demo history back-filled"))
        .catch((err: unknown) => logger.warn({ err }, "demo history back-fill failed"));
    } else {
      logger.info("demo history back-fill skipped: the storage already holds runs");
    }
  }

  retention = startRetention({ tracking, days: config.retentionDays, logger: logger.child({ component: "retention" }) });
  logger.info(
    { retentionDays: config.retentionDays, everyMs: RETENTION_INTERVAL_MS, nextRun: retention.nextRun().toISOString() },
    "retention cleanup scheduled",
  );
}

let config: ServerConfig;
try {
  config = readConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  logger.fatal(err.message);
  console.error(`pipewatch: ${err.message}`);
  process.exit(1);
}
main(config).catch((err: unknown) => {
  if (err instanceof StorageStartError) {
    logger.fatal(err.message);
    logger.flush();
    console.error(`pipewatch: ${err.message}`);
    process.exit(1);
  }
  logger.fatal({ err }, "pipewatch server failed to start");
  process.exit(1);
});
