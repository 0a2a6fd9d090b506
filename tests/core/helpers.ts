/** Shared by the core tests: a logger that records instead of printing, and small waits. */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import { InMemoryPipelineStorage, PipelineTrackingManager } from "../../lib";

export interface CapturedLogger {
  logger: Logger;
  /** Parsed JSON log lines, in order. */
  lines: { level: number; msg: string; [key: string]: unknown }[];
}

export function captureLogger(): CapturedLogger {
  const lines: CapturedLogger["lines"] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: "debug" }, stream), lines };
}

export const silentLogger = (): Logger => pino({ level: "silent" });

/** A manager over a fresh memory storage that logs nowhere (or into `logger`). */
export function memoryTracking(options: { logger?: Logger; maxPipelines?: number; maxResultBytes?: number } = {}): {
  tracking: PipelineTrackingManager;
  storage: InMemoryPipelineStorage;
} {
  const storage = new InMemoryPipelineStorage({ maxPipelines: options.maxPipelines });
  const tracking = new PipelineTrackingManager({
    logger: options.logger ?? silentLogger(),
    maxResultBytes: options.maxResultBytes,
  }).withStorage(storage);
  return { tracking, storage };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A promise plus its resolve, for steps a test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once every microtask and pending I/O callback queued so far has run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
