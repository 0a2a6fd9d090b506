/**
 * bull-board under benchmark, in its own process (its own event loop, like our server): express +
 * @bull-board/api over one BullMQ queue, with bull-board's defaults (workers shown, so each list
 * request also asks Redis for its client list). Prints `{"url": ...}` on stdout once listening;
 * stops on SIGTERM.
 *   Usage: node --import tsx bench/bull-board-host.ts <redisUrl> <bullPrefix> <queueName> <port>
 */
import { createServer } from "node:http";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import { Queue } from "bullmq";
import { Redis } from "ioredis";

const [redisUrl = "redis://127.0.0.1:6379", prefix = "pwbench:bull", queueName = "jobs", port = "3451"] = process.argv.slice(2);
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(queueName, { connection, prefix });
const serverAdapter = new ExpressAdapter();
serverAdapter.setBasePath("/");
createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter });

// The adapter's router is an express app, i.e. a plain (req, res) handler; typed `any` upstream.
const handler = serverAdapter.getRouter() as Parameters<typeof createServer>[1];
const server = createServer(handler);
server.listen(Number(port), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => {
    void queue.close().finally(() => {
      connection.disconnect();
      process.exit(0);
    });
  });
});
