/**
 * The server under benchmark, in its own process so its CPU is measured apart from the load
 * generator: Redis storage under the given prefix, no demo. Prints `{"url": ...}` on stdout once
 * listening; stops on SIGTERM.  Usage: node --import tsx bench/server-host.ts <redisUrl> <prefix>
 */
import { Redis } from "ioredis";
import { pino } from "pino";
import { PipelineTrackingManager } from "../lib/tracking/manager";
import { RedisPipelineStorage } from "../lib/tracking/storage/redis/storage";
import { startServer } from "../server/app-server";

const [redisUrl = "redis://127.0.0.1:6379", keyPrefix = "pwbench:server:"] = process.argv.slice(2);
const logger = pino({ level: "warn" });
const redis = new Redis(redisUrl);
const tracking = new PipelineTrackingManager({ logger }).withStorage(new RedisPipelineStorage(redis, { keyPrefix, logger }));
// The fan-out phase opens 500 sockets from this one address: raise the per-address cap past it.
const server = await startServer({ port: 0, tracking, logger, dev: false, limits: { maxSocketsPerIp: 1_000 } });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  void server
    .close()
    .then(() => tracking.close())
    .finally(() => {
      redis.disconnect();
      process.exit(0);
    });
});
