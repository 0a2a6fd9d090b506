/**
 * The production entry (`node dist/server/index.js`, what `npm start` runs) as a child process with an
 * environment of the test's: the bundle is rebuilt first (esbuild, about a second, under the shared
 * build lock) so it is never stale; the pages use the Next build in .next.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { expect } from "vitest";

export const ENTRY = "dist/server/index.js";

export interface StartedEntry {
  child: ChildProcess;
  url: string;
  port: number;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Rebuilds dist/server/index.js from the sources (call in beforeAll, with a 60 s hook timeout). */
export function buildServerEntry(): void {
  const build = spawnSync("flock", ["/tmp/pipewatch-build.lock", process.execPath, "scripts/build-server.mjs"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  if (build.status !== 0) throw new Error(`server bundle build failed: ${build.stderr}`);
}

/**
 * Spawns the entry with `env` (over a minimal base: PATH, production, PORT=0 for a free port);
 * resolves once it logs that it listens. The caller kills what it started (`children`).
 */
export async function startEntry(env: Record<string, string>, children: ChildProcess[]): Promise<StartedEntry> {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", LOG_LEVEL: "info", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" log in 20 s: ${JSON.stringify(logs.slice(-3))}`)), 20_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return; // Next's own output
      }
      logs.push(entry);
      if (entry.msg === "pipewatch server listening") {
        clearTimeout(timer);
        resolve(String(entry.url));
      }
    });
    void exited.then((code) => reject(new Error(`server exited ${code} before listening: ${JSON.stringify(logs.slice(-3))}`)));
  });
  return { child, url, port: Number(new URL(url).port), logs, exited };
}

export async function waitForLog(server: StartedEntry, msg: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const entry = server.logs.find((l) => l.msg === msg);
    if (entry) return entry;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${msg}" log within 10 s`);
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** SIGTERM: exits 0 within the 5 s shutdown deadline, port closed, "stopped" logged. */
export async function stopGracefully(server: StartedEntry): Promise<void> {
  const started = performance.now();
  server.child.kill("SIGTERM");
  expect(await server.exited).toBe(0);
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(await portAcceptsConnections(server.port)).toBe(false);
  expect(server.logs.some((l) => l.msg === "stopped")).toBe(true);
}
