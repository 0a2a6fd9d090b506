/** Starts the lease worker fixture (fixtures/lease-worker.ts) as a child process, for the Redis and server tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { REDIS_URL } from "./helpers";

/** The lease worker fixture; resolves with the ids it printed on its "started" line. */
export function startLeaseWorker(
  prefix: string,
  mode: "hang" | "sigterm",
  leaseMs: number,
): { child: ChildProcess; started: Promise<string[]> } {
  // node itself (tsx as a loader), not npx: a signal sent to the child reaches the worker.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tests/redis/fixtures/lease-worker.ts", REDIS_URL, prefix, mode, String(leaseMs)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d));
  const started = new Promise<string[]>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith("started "));
      if (line) resolve(line.slice(8).trim().split(" "));
    });
    child.on("exit", (code) => reject(new Error(`lease worker exited ${code} before starting: ${err || out}`)));
  });
  return { child, started };
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
