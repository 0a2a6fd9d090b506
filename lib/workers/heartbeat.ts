// Placeholder replaced by the real heartbeat at merge.
import type { Logger } from "../logger";
import type { TrackingStorage } from "../tracking/storage/types";
import type { WorkerInfo, HeartbeatOptions } from "./types";
export class WorkerHeartbeat {
  constructor(readonly o: { storage: TrackingStorage; info: () => WorkerInfo; logger: Logger }) {}
  start(): void {}
  touch(): void {}
  async stop(_options?: HeartbeatOptions): Promise<void> {}
}
