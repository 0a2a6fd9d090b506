/**
 * Live events on the HTTP server's `/socket.io`. The tracking manager's change stream is the only
 * input: every status change it emits (this process's runs, and other processes' through the
 * storage's change feed, including what a feed replays after a gap) becomes a `pipeline:update` for
 * every client (coalesced per run over one frame at most; a run's end goes out at once); members of
 * a pipeline's room also get a `step:update` for each step that changed, and on joining every step
 * as it stands; a run deleted anywhere becomes `pipeline:delete`. Members of the workers room get
 * `workers:update` from workers-feed.ts.
 */
import type { Server as HttpServer } from "node:http";
import type { Logger } from "pino";
import { Server, type Socket } from "socket.io";
import { SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents } from "../lib/events";
import type { PipelineTrackingManager } from "pipewatch";
import { isFinished, serializeStep, summarize, type PipelineStatus, type PipelineSummary, type StepStatus } from "../lib/tracking/models";
import type { HostCheck } from "./host-check";
import { isAllowedOrigin, isValidSession, isValidToken, readCookie, SESSION_COOKIE } from "./auth";
import { clientAddress, DEFAULT_LIMITS } from "./limits";
import { LoginThrottle } from "./login-throttle";
import { pipelineRoom, roomPayloadSchema, TokenBucket } from "./socket-guards";
import { createSocketCap, type SocketCaps } from "./socket-limits";
import { createTurnWrites } from "./turn-writes";
import { UpdateCoalescer } from "./update-coalescer";
import { createWorkersFeed, WORKERS_ROOM } from "./workers-feed";

export type PipewatchIo = Server<ClientToServerEvents, ServerToClientEvents>;
type PipewatchSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeOptions {
  tracking: PipelineTrackingManager;
  logger: Logger;
  dashboardToken?: string | null;
  /** Origins besides the server's own host allowed to open a socket. */
  allowedOrigins?: readonly string[];
  /** Per-pipeline coalescing window for `pipeline:update` (a run's end is never held). Default 16 ms. */
  coalesceMs?: number;
  /** The DNS-rebinding Host check (server/host-check.ts), applied to the handshake too; null with a token. */
  hostCheck?: HostCheck | null;
  /** Open connections allowed, in total and per client address. */
  caps?: Partial<SocketCaps>;
  /** Oldest session cookie accepted, in seconds. */
  sessionMaxAgeS?: number;
  /** Failed token guesses per address, shared with the login route; a wrong handshake token counts. */
  loginThrottle?: LoginThrottle;
}

export interface RealtimeServer {
  io: PipewatchIo;
  /** Sends what is pending and closes every socket (not the HTTP server). */
  close(): Promise<void>;
}

const MAX_ROOMS_PER_SOCKET = 200;
/** Pipelines whose last sent summary is remembered (to skip resending it); oldest forgotten first. */
const LAST_SENT_KEPT = 10_000;
const REFUSALS_BEFORE_DISCONNECT = 200;
/** A flood of refused connections logs one line per this interval, with a count. */
const REFUSAL_LOG_MS = 10_000;

export function createRealtimeServer(httpServer: HttpServer, options: RealtimeOptions): RealtimeServer {
  const { tracking, logger, dashboardToken = null, allowedOrigins = [], hostCheck = null } = options;
  const io: PipewatchIo = new Server(httpServer, {
    path: SOCKET_PATH,
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    // Next's dev HMR shares the server's upgrade event: leave upgrades on other paths alone.
    destroyUpgrade: false,
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true },
    allowRequest: (req, callback) => {
      if (hostCheck && !hostCheck(req.headers.host)) {
        logger.warn({ host: req.headers.host }, "socket refused: host not allowed");
        return callback("host not allowed", false);
      }
      const ok = isAllowedOrigin(req.headers.origin, req.headers.host, allowedOrigins);
      if (!ok) logger.warn({ origin: req.headers.origin }, "socket refused: origin not allowed");
      callback(ok ? null : "origin not allowed", ok);
    },
  });

  let refusedSinceLog = 0;
  let lastRefusalLog = 0;
  const cap = createSocketCap(
    {
      maxSockets: options.caps?.maxSockets ?? DEFAULT_LIMITS.maxSockets,
      maxSocketsPerIp: options.caps?.maxSocketsPerIp ?? DEFAULT_LIMITS.maxSocketsPerIp,
    },
    (address, reason) => {
      refusedSinceLog++;
      if (Date.now() - lastRefusalLog < REFUSAL_LOG_MS) return;
      logger.warn({ address, refused: refusedSinceLog }, `socket refused: ${reason}`);
      lastRefusalLog = Date.now();
      refusedSinceLog = 0;
    },
  );
  io.use(cap.middleware);

  if (dashboardToken) {
    const session = { token: dashboardToken, maxAgeS: options.sessionMaxAgeS ?? DEFAULT_LIMITS.sessionMaxAgeS };
    const throttle = options.loginThrottle ?? new LoginThrottle();
    io.use((socket, next) => {
      const auth: unknown = socket.handshake.auth;
      const token = typeof auth === "object" && auth !== null ? (auth as { token?: unknown }).token : undefined;
      if (token !== undefined) {
        const address = clientAddress(socket.conn.request.socket);
        if (throttle.retryAfterS(address) > 0) return next(new Error("too many failed logins from this address"));
        if (isValidToken(token, dashboardToken)) return next();
        throttle.fail(address);
      }
      if (isValidSession(readCookie(socket.handshake.headers.cookie, SESSION_COOKIE), session)) return next();
      next(new Error("unauthorized"));
    });
  }

  const turnWrites = createTurnWrites(io.sockets);
  const workersFeed = createWorkersFeed(io, { tracking, logger, beforeEmit: () => turnWrites.hold() });
  // Two changes announced together (a step finish and the next start) are each read back after
  // both were written, so they arrive as the same state twice; every client would get it twice.
  const lastSent = new Map<string, string>();
  const sendUpdate = (id: string, summary: PipelineSummary): void => {
    const text = JSON.stringify(summary);
    if (lastSent.get(id) === text) return;
    lastSent.delete(id);
    lastSent.set(id, text);
    if (lastSent.size > LAST_SENT_KEPT) lastSent.delete(lastSent.keys().next().value as string);
    turnWrites.hold();
    io.emit("pipeline:update", summary);
  };
  const coalescer = new UpdateCoalescer<PipelineSummary>(sendUpdate, options.coalesceMs, (err, pipelineId) =>
    logger.error({ err, pipelineId }, "could not send a pipeline:update"),
  );
  const stepsSent = new Map<string, Map<string, string>>();

  const onStatus = ({ status }: { status: PipelineStatus }): void => {
    coalescer.push(status.pipelineId, summarize(status), isFinished(status.status));
    sendStepUpdates(status);
  };
  const onDeleted = (pipelineId: string): void => {
    coalescer.drop(pipelineId);
    stepsSent.delete(pipelineId);
    lastSent.delete(pipelineId);
    turnWrites.hold();
    io.emit("pipeline:delete", { pipelineId });
  };

  /**
   * A new member of a run's room gets the run as it stands now: a page rendered a moment ago may
   * already be behind, and the next change could be long in coming. Read after joining, so a change
   * made meanwhile reaches it through the room as well (the page keeps the further-along step).
   */
  async function sendCurrentState(socket: PipewatchSocket, pipelineId: string): Promise<void> {
    let status: PipelineStatus | null;
    try {
      status = await tracking.getStatus(pipelineId);
    } catch (err) {
      logger.warn({ err, pipelineId }, "could not read a run for a new subscriber");
      return;
    }
    if (!status || !socket.connected || !socket.rooms.has(pipelineRoom(pipelineId))) return;
    turnWrites.hold();
    for (const step of status.steps) socket.emit("step:update", { pipelineId, step: serializeStep(step) });
    socket.emit("pipeline:update", summarize(status));
  }

  function sendStepUpdates(status: PipelineStatus): void {
    const room = pipelineRoom(status.pipelineId);
    if (!io.sockets.adapter.rooms.get(room)?.size) {
      stepsSent.delete(status.pipelineId);
      return;
    }
    const sent = stepsSent.get(status.pipelineId) ?? new Map<string, string>();
    stepsSent.set(status.pipelineId, sent);
    for (const step of status.steps) {
      const signature = stepSignature(step);
      if (sent.get(step.stepName) === signature) continue;
      sent.set(step.stepName, signature);
      turnWrites.hold();
      io.to(room).emit("step:update", { pipelineId: status.pipelineId, step: serializeStep(step) });
    }
  }

  const unsubscribe = [tracking.onChange("status", onStatus), tracking.onChange("deleted", onDeleted)];

  io.on("connection", (socket: PipewatchSocket) => {
    const bucket = new TokenBucket();
    const admit = (): boolean => {
      if (bucket.take()) return true;
      if (bucket.refused > REFUSALS_BEFORE_DISCONNECT) {
        logger.warn({ socketId: socket.id }, "socket disconnected: event rate limit");
        socket.disconnect(true);
      }
      return false;
    };
    socket.on("subscribe", (payload, ack) => {
      // The ack is optional (older clients send none) and, from a hostile client, may be anything.
      const reply = (ok: boolean) => void (typeof ack === "function" && ack(ok));
      if (!admit()) return reply(false);
      const parsed = roomPayloadSchema.safeParse(payload);
      if (!parsed.success || socket.rooms.size > MAX_ROOMS_PER_SOCKET) return reply(false);
      const room = pipelineRoom(parsed.data.pipelineId);
      if (socket.rooms.has(room)) return reply(true);
      void Promise.resolve(socket.join(room)).then(
        () => {
          reply(true);
          void sendCurrentState(socket, parsed.data.pipelineId);
        },
        () => reply(false),
      );
    });
    socket.on("workers:subscribe", (ack) => {
      const reply = (ok: boolean) => void (typeof ack === "function" && ack(ok));
      if (!admit()) return reply(false);
      void Promise.resolve(socket.join(WORKERS_ROOM)).then(
        () => {
          reply(true);
          workersFeed.joined(socket.id);
        },
        () => reply(false),
      );
    });
    socket.on("workers:unsubscribe", (ack) => {
      const reply = (ok: boolean) => void (typeof ack === "function" && ack(ok));
      if (!admit()) return reply(false);
      void Promise.resolve(socket.leave(WORKERS_ROOM)).then(
        () => reply(true),
        () => reply(false),
      );
    });
    socket.on("unsubscribe", (payload, ack) => {
      const reply = (ok: boolean) => void (typeof ack === "function" && ack(ok));
      if (!admit()) return reply(false);
      const parsed = roomPayloadSchema.safeParse(payload);
      if (!parsed.success) return reply(false);
      void Promise.resolve(socket.leave(pipelineRoom(parsed.data.pipelineId))).then(
        () => reply(true),
        () => reply(false),
      );
    });
  });

  return {
    io,
    async close() {
      for (const stop of unsubscribe) stop();
      workersFeed.close();
      coalescer.flush();
      turnWrites.release();
      io.disconnectSockets(true);
      // io.close() would also close the HTTP server; the caller owns that.
      io.engine.close();
    },
  };
}

function stepSignature(step: StepStatus): string {
  return `${step.status}|${step.attempts}|${step.startedAt?.getTime() ?? ""}|${step.completedAt?.getTime() ?? ""}|${step.workerId ?? ""}`;
}
