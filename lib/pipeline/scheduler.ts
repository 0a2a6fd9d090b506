/**
 * PipelineScheduler: run a function, or kiq a pipeline, on a cron schedule (croner).
 * Five fields, or six with seconds first. An invalid expression throws at once; a failing job is
 * logged and the schedule goes on.
 */
import { Cron } from "croner";
import { defaultLogger, type Logger } from "../logger";
import type { Broker } from "./broker";
import type { Pipeline } from "./pipeline";

export interface ScheduleOptions {
  /** Cron expression, e.g. "0 3 * * *" (3 AM daily) or "*\/10 * * * * *" (every 10 s). */
  runAt: string;
  /** IANA time zone for the expression; default UTC. */
  timezone?: string;
  /** Name in logs. */
  name?: string;
}

export interface ScheduleHandle {
  stop(): void;
  /** When the job runs next, or null once stopped. */
  nextRun(): Date | null;
}

type Job = (() => unknown) | Pipeline<unknown, unknown>;

export class PipelineScheduler {
  private readonly jobs = new Set<Cron>();
  private readonly logger: Logger;

  constructor(
    readonly broker: Broker,
    options: { logger?: Logger } = {},
  ) {
    this.logger = options.logger ?? defaultLogger();
  }

  scheduleAt(job: Job, options: ScheduleOptions): ScheduleHandle {
    const { runAt, timezone = "UTC" } = options;
    if (typeof runAt !== "string") throw new TypeError("runAt must be a cron expression string");
    const fields = runAt.trim().split(/\s+/).length;
    if (fields !== 5 && fields !== 6) {
      throw new TypeError(`Invalid cron expression "${runAt}": expected 5 fields, or 6 with seconds first`);
    }
    const name = options.name ?? (typeof job === "function" ? job.name || "job" : (job.name ?? "pipeline"));
    let cron: Cron;
    try {
      cron = new Cron(
        runAt,
        { timezone, protect: true, catch: (err: unknown) => this.logger.error({ err, name }, "scheduled job failed") },
        async () => {
          if (typeof job === "function") await job();
          else await job.kiq();
        },
      );
    } catch (err) {
      throw new TypeError(`Invalid cron expression "${runAt}": ${err instanceof Error ? err.message : String(err)}`);
    }
    this.jobs.add(cron);
    return {
      stop: () => {
        cron.stop();
        this.jobs.delete(cron);
      },
      nextRun: () => cron.nextRun(),
    };
  }

  /** Stops every schedule. */
  stopAll(): void {
    for (const cron of this.jobs) cron.stop();
    this.jobs.clear();
  }
}
