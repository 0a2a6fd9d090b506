/**
 * A redis-server of the test's own (each suite keeps to its own ports: 6380-6384 server tests, 6396-6399 Redis tests), so a test can kill
 * and restart it without touching the shared one. No persistence: a restart starts empty, like a
 * crashed cache.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";

export interface OwnRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  /** SIGKILL: the server vanishes as in a crash (connections reset, nothing flushed). */
  kill(): Promise<void>;
}

export function ownRedis(basePort: number): OwnRedis {
  // Interim: TEST_PORT_OFFSET moves every own server, so two checkouts can run side by side.
  return ownRedisAt(basePort + Number(process.env.TEST_PORT_OFFSET ?? 0));
}

/** A redis-server of the test's own on a port the OS picked free just before (no fixed port to collide on). */
export async function ownRedisOnFreePort(): Promise<OwnRedis> {
  const port = await new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
  return ownRedisAt(port);
}

function ownRedisAt(port: number): OwnRedis {
  let child: ChildProcess | null = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      if (child) return;
      if (await answersPing(port)) throw new Error(`port ${port} already has a Redis (a leftover from an earlier run?)`);
      child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
      const started = child;
      started.once("exit", () => {
        if (child === started) child = null;
      });
      for (let i = 0; i < 100; i++) {
        if (await answersPing(port)) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`redis-server on port ${port} did not start`);
    },
    async kill() {
      const running = child;
      if (!running) return;
      child = null;
      const exited = new Promise((r) => running.once("exit", r));
      running.kill("SIGKILL");
      await exited;
    },
  };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on("error", () => done(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (d) => done(d.toString().startsWith("+PONG")));
  });
}
