/**
 * A redis-server of the test's own, on a port from the OS, so a test can kill and restart it
 * without touching the shared one. No persistence unless asked: a restart starts empty, like a
 * crashed cache.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, redisServedBy } from "../scripts/net-probes.mjs";

export interface OwnRedis {
  url: string;
  port: number;
  /** Starts (or restarts, after kill) the server on `port`; resolves once it answers. */
  start(): Promise<void>;
  /** SIGKILL: the server vanishes as in a crash (connections reset, nothing flushed). */
  kill(): Promise<void>;
  /** SIGTERM: a clean shutdown (with `persist`, its append-only file is complete). */
  stop(): Promise<void>;
}

export interface OwnRedisOptions {
  /** Keep the data across restarts in an append-only file (in a temp folder of its own). */
  persist?: boolean;
}

/** Thrown by start() when another process took the port between freePort() and the spawn. */
export class PortTakenError extends Error {}

/**
 * Reserves a port for a server that is not running yet (for a test whose client must exist before
 * its Redis does); start() brings it up. Most tests want startOwnRedis().
 */
export async function ownRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const persistence = options.persist
    ? ["--appendonly", "yes", "--appendfsync", "always", "--dir", mkdtempSync(join(tmpdir(), "pw-redis-"))]
    : ["--appendonly", "no"];
  const end = async (signal: NodeJS.Signals) => {
    const running = child;
    if (!running) return;
    child = null;
    const exited = new Promise((r) => running.once("exit", r));
    running.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      const started = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...persistence], {
        stdio: "ignore",
      });
      child = started;
      let exited = false;
      let spawnError: Error | null = null;
      started.once("exit", () => {
        exited = true;
        if (child === started) child = null;
      });
      started.once("error", (err) => {
        spawnError = err;
        exited = true;
        if (child === started) child = null;
      });
      for (let i = 0; i < 250 && !exited; i++) {
        // Asks for the process id, so another Redis that grabbed the port is never taken for ours.
        if (await redisServedBy(port, started.pid)) return;
        await new Promise((r) => setTimeout(r, 20)); // poll interval while redis-server starts up
      }
      if (spawnError) throw new Error(`could not run redis-server (apt-get install -y redis-server): ${(spawnError as Error).message}`);
      if (exited) throw new PortTakenError(`redis-server could not listen on port ${port} (taken by another process?)`);
      started.kill("SIGKILL");
      throw new Error(`redis-server on port ${port} did not start`);
    },
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
}

/** A running redis-server of the test's own; picks another port when the first one was taken meanwhile. */
export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  for (let attempt = 1; ; attempt++) {
    const server = await ownRedis(options);
    try {
      await server.start();
      return server;
    } catch (err) {
      if (!(err instanceof PortTakenError) || attempt >= 5) throw err;
    }
  }
}
