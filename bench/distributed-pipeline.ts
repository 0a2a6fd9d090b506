/** What the distributed benchmark's producer and its worker processes share: the pipeline and the raw chain's names. */
import { Pipeline, type BullMQBroker } from "../lib";

export const STEPS = 10;

/** A sequential pipeline of STEPS no-op steps (each passes its input on). */
export function benchPipeline(broker: BullMQBroker) {
  let pipe = new Pipeline<number>(broker, { name: "dbench" });
  for (let i = 0; i < STEPS; i++) pipe = pipe.step(`s${i}`, (x: unknown) => x) as never;
  return pipe as unknown as Pipeline<never, unknown>;
}

/** The raw BullMQ chain: its queue (under `<prefix>raw`), and the channel its last job announces a run's end on. */
export const RAW_QUEUE = "chain";
export const rawPrefix = (prefix: string) => `${prefix}raw`;
export const rawDoneChannel = (prefix: string) => `${prefix}raw:done`;

/** One host clock for every process: ms since the epoch, sub-millisecond. */
export const hostNow = () => performance.timeOrigin + performance.now();

export type WorkerCommand =
  | { type: "start"; mode: "raw" | "pipewatch"; concurrency: number }
  | { type: "stop" }
  | { type: "record"; on: boolean }
  | { type: "report" };

export interface WorkerReport {
  type: "report";
  /** "<pipelineId>|<step>" → host ms when its complete script answered / its claim script answered. */
  completes: [string, number][];
  claims: [string, number][];
  /** This process's CPU time (user + system) in µs since it booted. */
  cpuUs: number;
}
