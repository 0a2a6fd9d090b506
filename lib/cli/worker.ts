/**
 * `pipewatch worker <module>`: imports the module, registers every Pipeline it exports (by name) with
 * its BullMQBroker and consumes their queues until SIGTERM or SIGINT; then takes no new jobs, lets
 * in-flight steps finish within the grace period and puts the rest back on their queues. Exit codes:
 * 0 stopped cleanly, 1 the module could not be loaded or exports nothing a worker can run.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { WorkerCommand } from "./args";
import type { CliIO } from "./run";

/** What the worker needs of an exported pipeline (checked by shape: the module may bundle its own copy of the library). */
interface ExportedPipeline {
  name: string | null;
  pipelineType: string;
  stepNames: string[];
  broker: WorkerBroker | { startWorker?: undefined; constructor: { name: string } };
}

interface WorkerBroker {
  workerId: string;
  startWorker(options: { pipelines: never[]; concurrency: number; graceMs: number }): Promise<{ close(): Promise<void> }>;
  close(): Promise<void>;
}

function isPipeline(value: unknown): value is ExportedPipeline {
  const v = value as Partial<ExportedPipeline> | null;
  return typeof v === "object" && v !== null && typeof (v as { kiq?: unknown }).kiq === "function" && typeof v.broker === "object";
}

function envNumber(io: CliIO, name: string, fallback: number, check: (n: number) => boolean): number {
  const raw = io.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!check(n)) throw new Error(`${name} must be a number, got "${raw}"`);
  return n;
}

/** Starts the worker; resolves with the exit code once it stopped (or failed to start). */
export async function runWorker(command: WorkerCommand, io: CliIO, signals: NodeJS.EventEmitter = process): Promise<number> {
  let concurrency: number, graceMs: number;
  try {
    concurrency = command.concurrency ?? envNumber(io, "WORKER_CONCURRENCY", 1, (n) => Number.isInteger(n) && n >= 1);
    graceMs = command.graceMs ?? envNumber(io, "WORKER_GRACE_MS", 10_000, (n) => Number.isFinite(n) && n >= 0);
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  }
  const path = resolve(command.module);
  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    io.stderr(`error: cannot load ${command.module}: ${(err as Error).message}\n`);
    return 1;
  }
  const pipelines = Object.values(exported).filter(isPipeline);
  if (pipelines.length === 0) {
    io.stderr(`error: ${command.module} exports no Pipeline: export the pipelines this worker should run\n`);
    return 1;
  }
  const byBroker = new Map<WorkerBroker, ExportedPipeline[]>();
  for (const p of pipelines) {
    if (typeof p.broker.startWorker !== "function") {
      io.stderr(
        `error: pipeline "${p.name ?? "(unnamed)"}" uses ${p.broker.constructor.name}: a worker runs pipelines of a BullMQBroker\n`,
      );
      return 1;
    }
    const broker = p.broker as WorkerBroker;
    byBroker.set(broker, [...(byBroker.get(broker) ?? []), p]);
  }

  const handles: { close(): Promise<void> }[] = [];
  try {
    for (const [broker, list] of byBroker) {
      handles.push(await broker.startWorker({ pipelines: list as never[], concurrency, graceMs }));
      const names = list.map((p) => `${p.name} (${p.pipelineType}, ${p.stepNames.length} steps)`).join(", ");
      io.stdout(`pipewatch worker ${broker.workerId}: registered ${names}; concurrency ${concurrency}\n`);
    }
  } catch (err) {
    io.stderr(`error: cannot start the worker: ${(err as Error).message}\n`);
    await Promise.allSettled(handles.map((h) => h.close()));
    await Promise.allSettled([...byBroker.keys()].map((b) => b.close()));
    return 1;
  }

  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      io.stdout(`pipewatch worker: ${signal}, finishing in-flight steps (up to ${graceMs} ms)\n`);
      done();
    };
    signals.once("SIGTERM", () => stop("SIGTERM"));
    signals.once("SIGINT", () => stop("SIGINT"));
  });
  await Promise.allSettled(handles.map((h) => h.close()));
  await Promise.allSettled([...byBroker.keys()].map((b) => b.close()));
  io.stdout("pipewatch worker: stopped\n");
  return 0;
}
