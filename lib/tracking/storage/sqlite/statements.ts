/** The statements a write batch runs (batch.ts), prepared once per storage. */
import type { Database, Statement } from "./driver";
import { RUN_COLUMNS } from "./records";
import { prepareRollupStatements, type RollupStatements } from "./rollups";

const FINISHED_SQL = "('COMPLETED', 'FAILED', 'CANCELLED')";

export class BatchStatements {
  readonly select: Statement;
  readonly upsert: Statement;
  readonly updateSteps: Statement;
  readonly updateLease: Statement;
  readonly remove: Statement;
  readonly dropChanges: Statement;
  readonly insertChange: Statement;
  readonly count: Statement;
  readonly now: Statement;
  readonly expiredLeases: Statement;
  readonly oldFinished: Statement;
  readonly expiredRuns: Statement;
  readonly rollups: RollupStatements;

  constructor(db: Database) {
    this.select = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`);
    const columns = [
      "id",
      "name",
      "status",
      "type",
      "started_at",
      "completed_at",
      "duration_ms",
      "error",
      "result",
      "steps",
      "steps_total",
      "steps_completed",
      "steps_failed",
      "current_step",
      "lease_worker",
      "lease_until",
      "expire_at",
    ];
    this.upsert = db.prepare(
      `INSERT INTO runs (${columns.join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")}) ` +
        `ON CONFLICT (id) DO UPDATE SET ${columns
          .slice(1)
          .map((c) => `${c} = excluded.${c}`)
          .join(", ")}`,
    );
    // Narrow updates leave the indexes on start time and status alone.
    this.updateSteps = db.prepare(
      "UPDATE runs SET steps = ?, steps_total = ?, steps_completed = ?, steps_failed = ?, current_step = ? WHERE id = ?",
    );
    this.updateLease = db.prepare("UPDATE runs SET lease_worker = ?, lease_until = ? WHERE id = ?");
    this.remove = db.prepare("DELETE FROM runs WHERE id = ?");
    this.dropChanges = db.prepare("DELETE FROM changes WHERE pipeline_id = ?");
    this.insertChange = db.prepare("INSERT INTO changes (pipeline_id, deleted, origin, writer) VALUES (?, ?, ?, ?)");
    this.count = db.prepare("INSERT INTO status_counts (status, n) VALUES (?, ?) ON CONFLICT (status) DO UPDATE SET n = n + excluded.n");
    this.now = db.prepare("SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER)").pluck();
    this.expiredLeases = db.prepare("SELECT id FROM runs WHERE lease_until <= ? ORDER BY lease_until LIMIT ?").pluck();
    this.oldFinished = db
      .prepare(`SELECT id FROM runs WHERE started_at < ? AND status IN ${FINISHED_SQL} ORDER BY started_at, id LIMIT ?`)
      .pluck();
    this.expiredRuns = db.prepare("SELECT id FROM runs WHERE expire_at <= ? LIMIT ?").pluck();
    this.rollups = prepareRollupStatements(db);
  }
}
