/**
 * The server under the operations benchmark, in its own process: Redis storage under the given
 * prefix, socket caps raised past the 2 000 sockets the benchmark opens from one address. Prints
 * `{"url": ...}` once listening; on an IPC "cleanup" message runs one retention pass (RETENTION_DAYS
 * 0: every finished run) and answers `{ deleted, ms }`.
 * Usage: node --import tsx bench/server-ops-host.ts <redisUrl> <prefix> [maxSocketsPerIp]
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { PipelineTrackingManager } from "../lib/tracking/manager";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";
import { startServer } from "../server/app-server";
import { startRetention } from "../server/retention";

const [redisUrl = "redis://127.0.0.1:6379", keyPrefix = "pwbench:ops:", perIp = "5000"] = process.argv.slice(2);
const logger = pino({ level: "warn" });
const redis = new Redis(redisUrl);
const tracking = new PipelineTrackingManager({ logger }).withStorage(new RedisPipelineStorage(redis, { keyPrefix, logger }));
const server = await startServer({ port: 0, tracking, logger, dev: false, limits: { maxSockets: 5_000, maxSocketsPerIp: Number(perIp) } });
const retention = startRetention({ tracking, days: 0, logger, firstPassAfterMs: 2 ** 31 - 1 });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);

process.on("message", (message) => {
  if (message !== "cleanup") return;
  const started = performance.now();
  void retention.runOnce().then((deleted) => process.send?.({ deleted, ms: Math.round(performance.now() - started) }));
});
process.on("SIGTERM", () => {
  retention.stop();
  void server
    .close()
    .then(() => tracking.close())
    .finally(() => {
      redis.disconnect();
      process.exit(0);
    });
});
