/** The server benchmark's child processes: spawning them, waiting for them to listen, and driving the writer (bench/server-writer.ts). */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { StepFinished, WriterDone, WriterJob } from "./server-writer";

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const PREFIX = "pwbench:server:";

/** Every wait on another process is bounded: a stuck child fails the benchmark instead of hanging it. */
export function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`benchmark timed out after ${Math.round(timeoutMs / 1000)} s: ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Extra node flags for the server process only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
const HOST_NODE_ARGS = (process.env.BENCH_SERVER_HOST_NODE_ARGS ?? "").split(" ").filter(Boolean);

export function spawnTs(file: string, ipc: boolean): ChildProcess {
  const nodeArgs = file.endsWith("server-host.ts") ? HOST_NODE_ARGS : [];
  return spawn(process.execPath, [...nodeArgs, "--import", "tsx", file, REDIS_URL, PREFIX], {
    stdio: ipc ? ["ignore", "pipe", "inherit", "ipc"] : ["ignore", "pipe", "inherit"],
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
}

/** Starts a child that prints `{"url": ...}` on stdout once listening. */
export async function startListening(file: string, ipc = false): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnTs(file, ipc);
  const lines = createInterface({ input: child.stdout! });
  const url = await within(
    new Promise<string>((resolve, reject) => {
      lines.on("line", (line) => {
        try {
          resolve((JSON.parse(line) as { url: string }).url);
        } catch {
          // not the ready line
        }
      });
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    }),
    60_000,
    `${file} to listen`,
  ).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  return { child, url };
}

/** Runs a writer job; resolves with each step finish's time keyed `<id>:<stepsCompleted>`. */
export function runWriter(writer: ChildProcess, job: WriterJob): Promise<Map<string, number>> {
  const finished = new Map<string, number>();
  let onMessage: (m: StepFinished | WriterDone) => void = () => undefined;
  const done = new Promise<Map<string, number>>((resolve, reject) => {
    onMessage = (m) => {
      if (!("done" in m)) return void finished.set(`${m.pipelineId}:${m.stepsCompleted}`, m.at);
      if (m.error) reject(new Error(`the writer failed: ${m.error}`));
      else resolve(finished);
    };
    writer.on("message", onMessage);
    writer.once("exit", (code) => reject(new Error(`the writer exited ${code}`)));
    writer.send(job);
  });
  // Three times the job's own duration, plus slack for a loaded machine.
  const expectedMs = Math.ceil(job.runs / job.concurrency) * job.steps * job.stepMs;
  return within(done, expectedMs * 3 + 30_000, `the writer's ${job.runs} runs`).finally(() => writer.off("message", onMessage));
}
