/**
 * The worker registry in SQLite: one row per worker with its last heartbeat as JSON, `last_seen` by
 * the database's clock (hosts' clocks are never compared). Workers unseen for WORKER_LISTED_FOR_MS
 * are deleted by the next heartbeat of any worker.
 */
import {
  WORKER_LISTED_FOR_MS,
  WORKER_OFFLINE_AFTER_MS,
  type HeartbeatOptions,
  type WorkerInfo,
  type WorkerRecord,
} from "../../../workers/types";
import type { Logger } from "../../../logger";
import type { Database, Statement } from "./driver";

const NOW_MS = "(unixepoch('subsec') * 1000)";

export class SqliteWorkerRegistry {
  private readonly upsert: Statement;
  private readonly expire: Statement;
  private readonly list: Statement;

  constructor(
    db: Database,
    private readonly logger: Logger,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO workers (worker_id, info, last_seen, stopped) VALUES (?, ?, ${NOW_MS}, ?) ` +
        "ON CONFLICT (worker_id) DO UPDATE SET info = excluded.info, last_seen = excluded.last_seen, stopped = excluded.stopped",
    );
    this.expire = db.prepare(`DELETE FROM workers WHERE last_seen < ${NOW_MS} - ?`);
    this.list = db.prepare(`SELECT worker_id, info, last_seen, stopped, ${NOW_MS} AS now FROM workers WHERE last_seen >= ${NOW_MS} - ?`);
  }

  /** Runs inside a write batch (the caller's transaction). */
  record(info: WorkerInfo, options: HeartbeatOptions | undefined): void {
    this.upsert.run(info.workerId, JSON.stringify(info), options?.stopped ? 1 : 0);
    this.expire.run(WORKER_LISTED_FOR_MS);
  }

  all(): WorkerRecord[] {
    const rows = this.list.all(WORKER_LISTED_FOR_MS) as {
      worker_id: string;
      info: string;
      last_seen: number;
      stopped: number;
      now: number;
    }[];
    const out: WorkerRecord[] = [];
    for (const row of rows) {
      let info: WorkerInfo;
      try {
        info = reviveInfo(JSON.parse(row.info) as WorkerInfoJSON);
      } catch (err) {
        this.logger.error({ err, workerId: row.worker_id }, "skipped a worker row that does not decode");
        continue;
      }
      const online = row.stopped === 0 && row.now - row.last_seen < WORKER_OFFLINE_AFTER_MS;
      out.push({ ...info, lastSeenAt: new Date(Math.round(row.last_seen)), status: online ? "online" : "offline" });
    }
    return out.sort((a, b) =>
      a.status === b.status ? (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0) : a.status === "online" ? -1 : 1,
    );
  }
}

type WorkerInfoJSON = Omit<WorkerInfo, "startedAt" | "active"> & {
  startedAt: string;
  active: { pipelineId: string; stepName: string; startedAt: string }[];
};

function reviveInfo(json: WorkerInfoJSON): WorkerInfo {
  return {
    ...json,
    startedAt: new Date(json.startedAt),
    active: json.active.map((a) => ({ ...a, startedAt: new Date(a.startedAt) })),
  };
}
