/** Worker and producer processes for the distributed tests, and the step events they announce. */
import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";

export interface WorkerProcess {
  child: ChildProcess;
  workerId: string;
  output: () => string;
}

/** `pipewatch worker tests/distributed/fixtures/pipelines.ts`, from source; resolves once it registered its pipelines. */
export function startWorkerProcess(env: Record<string, string>, args: string[] = []): Promise<WorkerProcess> {
  // node itself with tsx as a loader (not npx), so a signal sent to the child reaches the worker.
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "lib/cli/pipewatch.ts", "worker", "tests/distributed/fixtures/pipelines.ts", ...args],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => (out += d));
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /pipewatch worker (\S+): registered/.exec(out);
      if (!m) return;
      child.stdout!.off("data", onData);
      resolve({ child, workerId: m[1]!, output: () => out });
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`worker exited ${code} before it registered: ${out}`)));
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

export interface StepEvent {
  event: "start" | "aborted";
  pipelineId: string;
  step: string;
  workerId: string;
  attempt: number;
  at: number;
}

/** Listens to the fixture's step events; `next(match)` resolves with the first (past or future) event matching. */
export async function stepEvents(url: string, prefix: string) {
  const sub = new Redis(url);
  const seen: StepEvent[] = [];
  const waiters: { match: (e: StepEvent) => boolean; resolve: (e: StepEvent) => void }[] = [];
  sub.on("message", (_channel: string, message: string) => {
    const [event, pipelineId, step, workerId, attempt] = message.split(" ");
    const e = { event, pipelineId, step, workerId, attempt: Number(attempt), at: Date.now() } as StepEvent;
    seen.push(e);
    for (const w of waiters.splice(0)) {
      if (w.match(e)) w.resolve(e);
      else waiters.push(w);
    }
  });
  await sub.subscribe(`${prefix}test:events`);
  return {
    seen,
    next(match: (e: StepEvent) => boolean): Promise<StepEvent> {
      const past = seen.find(match);
      if (past) return Promise.resolve(past);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
    close: () => sub.quit(),
  };
}
