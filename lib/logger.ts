/**
 * The library logs through a pino logger. Pass your own to `PipelineTrackingManager({ logger })`;
 * the default writes JSON to stderr at LOG_LEVEL (default "info").
 */
import { pino, type Logger } from "pino";

export type { Logger };

let fallback: Logger | undefined;

export function defaultLogger(): Logger {
  fallback ??= pino({ name: "pipewatch", level: process.env.LOG_LEVEL ?? "info" }, pino.destination(2));
  return fallback;
}
