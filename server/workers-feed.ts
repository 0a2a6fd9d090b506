/**
 * The workers room's live list: while at least one socket is in the room, reads `listWorkers()`
 * once a second and sends `workers:update` (the workers and their definitions) to the room when it
 * differs from the last one sent (a heartbeat moved `lastSeenAt`, a worker came, went offline or
 * was dropped). Heartbeats land in the storage from any process with no change feed of their own,
 * hence the poll; with no member it stops, so an idle dashboard costs the storage nothing. A new
 * member gets the current list at once, read after it joined.
 */
import type { Logger } from "pino";
import type { Server } from "socket.io";
import {
  definitionsOf,
  listStoredWorkers,
  serializeWorker,
  type DefinitionJSON,
  type PipelineTrackingManager,
  type WorkerJSON,
} from "pipewatch";
import type { ClientToServerEvents, ServerToClientEvents } from "../lib/events";

/** The Socket.IO room of `workers:update` (a pipeline's room is `pipeline:<id>`, so no clash). */
export const WORKERS_ROOM = "workers";
export const WORKERS_POLL_MS = 1_000;

type Io = Server<ClientToServerEvents, ServerToClientEvents>;

export interface WorkersFeed {
  /** A socket just joined WORKERS_ROOM: send it the list as it stands and make sure the poll runs. */
  joined(socketId: string): void;
  close(): void;
}

export function createWorkersFeed(
  io: Io,
  options: { tracking: PipelineTrackingManager; logger: Logger; pollMs?: number; beforeEmit?: () => void },
): WorkersFeed {
  const { tracking, logger, pollMs = WORKERS_POLL_MS, beforeEmit = () => {} } = options;
  let timer: NodeJS.Timeout | null = null;
  let lastSent: string | null = null;
  let failing = false;
  let closed = false;

  const members = (): number => io.sockets.adapter.rooms.get(WORKERS_ROOM)?.size ?? 0;

  type Payload = { items: WorkerJSON[]; definitions: DefinitionJSON[] };
  const read = async (): Promise<{ payload: Payload; text: string } | null> => {
    try {
      const workers = await listStoredWorkers(tracking.storage);
      const payload = { items: workers.map(serializeWorker), definitions: definitionsOf(workers) };
      failing = false;
      return { payload, text: JSON.stringify(payload) };
    } catch (err) {
      // An outage would log once a second; the first failure of a streak says enough.
      logger[failing ? "debug" : "warn"]({ err }, "could not list workers for the workers room");
      failing = true;
      return null;
    }
  };

  const poll = async (): Promise<void> => {
    timer = null;
    if (closed || members() === 0) {
      lastSent = null;
      return;
    }
    const list = await read();
    if (list && list.text !== lastSent && members() > 0) {
      lastSent = list.text;
      beforeEmit();
      io.to(WORKERS_ROOM).emit("workers:update", list.payload);
    }
    schedule();
  };

  const schedule = (): void => {
    if (closed || timer || members() === 0) return;
    timer = setTimeout(() => void poll(), pollMs);
    timer.unref();
  };

  return {
    joined(socketId) {
      schedule();
      void read().then((list) => {
        const socket = io.sockets.sockets.get(socketId);
        if (!list || closed || !socket?.rooms.has(WORKERS_ROOM)) return;
        beforeEmit();
        socket.emit("workers:update", list.payload);
      });
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
