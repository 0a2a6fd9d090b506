/**
 * One node:http server hosting the REST API, the Next.js pages and Socket.IO, wired to a tracking
 * manager passed in. `/api/*` is answered by our own router before Next (Next's route-handler
 * machinery cost more than the storage read itself); only the pages go through Next, and they
 * reach the runtime through the typed handle in runtime.ts. `port: 0` picks a free port; the
 * returned url and port are the real ones.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import next from "next";
import { pino, type Logger } from "pino";
import type { PipelineTrackingManager } from "pipewatch";
import { createApiHandler } from "./api/handler";
import { checkHealth } from "./api/routes/health";
import { gateBodySize } from "./body-limit";
import { createHostCheck } from "./host-check";
import { assignRequestId, isApiPath, passAuthGate, passHostCheck, passPathCheck, requestUrl, sendJson } from "./http-gate";
import { DEFAULT_LIMITS, type ServerLimits } from "./limits";
import { LoginThrottle } from "./login-throttle";
import { createPrometheusMetrics } from "./prometheus";
import { createRealtimeServer, type PipewatchIo } from "./realtime";
import { setRuntime } from "./runtime";

export interface StartServerOptions {
  port: number;
  host?: string;
  tracking: PipelineTrackingManager;
  dashboardToken?: string | null;
  dev?: boolean;
  logger?: Logger;
  allowedOrigins?: string[];
  /** Body size, socket caps, session lifetime; each defaults to DEFAULT_LIMITS. */
  limits?: Partial<ServerLimits>;
  /** Per-pipeline coalescing window of `pipeline:update`. Default 16 ms (a run's end is never held). */
  coalesceMs?: number;
  /** Register the process metrics (CPU, memory, event loop) too. Default true. */
  processMetrics?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  io: PipewatchIo;
  close(): Promise<void>;
}

const FORCE_CLOSE_AFTER_MS = 2_000;
/** Node's default 5 s drops a browser's idle connection between two looks at the dashboard. */
const KEEP_ALIVE_MS = 65_000;

export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { tracking, host = "127.0.0.1", dev = false, allowedOrigins = [] } = options;
  const dashboardToken = options.dashboardToken || null;
  if (dashboardToken !== null && dashboardToken.trim() === "") throw new Error("dashboardToken is only whitespace");
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const session = dashboardToken ? { token: dashboardToken, maxAgeS: limits.sessionMaxAgeS } : null;
  // One budget of failed guesses per address, however the token is presented: login, Bearer, socket.
  const loginThrottle = new LoginThrottle();
  const logger = options.logger ?? pino({ name: "pipewatch-server", level: process.env.LOG_LEVEL ?? "info" });

  let handle: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | null = null;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const startedAt = new Date();
  const prometheus = createPrometheusMetrics(tracking, { defaultMetrics: options.processMetrics ?? true });
  const api = createApiHandler({
    tracking,
    storageKind: tracking.storage.kind,
    startedAt,
    dashboardToken,
    logger,
    prometheus: prometheus.registry,
    limits,
    loginThrottle,
  });

  // Without a token the Host header is all that tells a DNS-rebinding page from the dashboard.
  const hostCheck = dashboardToken ? null : createHostCheck({ bindHost: host, allowedOrigins });

  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS }, (req, res) => {
    const requestId = assignRequestId(req, res);
    const url = requestUrl(req);
    if (!url) return sendJson(res, 400, { error: "Malformed request URL" });
    gateBodySize(req, res, limits.maxBodyBytes, () => route(req, res, url, requestId));
  });
  // Above keepAliveTimeout, or a slow client's headers could be cut by the wrong timer.
  server.headersTimeout = KEEP_ALIVE_MS + 1_000;

  function route(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): void {
    const isApi = isApiPath(url.pathname);
    if (isApi) logApiRequest(req, res, url, requestId);
    if (!passPathCheck(res, url.pathname)) return;
    if (!passHostCheck(req, res, hostCheck, url.pathname)) return;
    if (!passAuthGate(req, res, session, url, loginThrottle)) return;
    if (isApi) return api(req, res, url, requestId);
    void ready
      .then(() => handle!(req, res))
      .catch((err: unknown) => {
        logger.error({ err, reqId: requestId }, "request failed");
        if (!res.headersSent) sendJson(res, 500, { error: "Internal server error" });
        else res.end();
      });
  }

  function logApiRequest(req: IncomingMessage, res: ServerResponse, url: URL, requestId: string): void {
    if (!logger.isLevelEnabled("info")) return;
    const started = performance.now();
    res.once("finish", () =>
      logger.info(
        { reqId: requestId, method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - started) },
        "api request",
      ),
    );
  }
  // Requests Node's parser refuses (oversized headers or URL, bad syntax) still get a JSON answer.
  server.on("clientError", (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
    const body = JSON.stringify({ error: tooLarge ? "Request headers or URL too large" : "Malformed HTTP request" });
    socket.end(
      `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch((err: unknown) => {
    prometheus.dispose();
    throw err;
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  const url = `http://${urlHost}:${port}`;

  const realtime = createRealtimeServer(server, {
    tracking,
    logger,
    dashboardToken,
    allowedOrigins,
    hostCheck,
    coalesceMs: options.coalesceMs,
    caps: { maxSockets: limits.maxSockets, maxSocketsPerIp: limits.maxSocketsPerIp },
    sessionMaxAgeS: limits.sessionMaxAgeS,
    loginThrottle,
  });
  setRuntime({ tracking, storageKind: tracking.storage.kind, startedAt, dashboardToken });

  const app = next({ dev, dir: process.cwd(), hostname: host, port, httpServer: server, quiet: !dev });
  try {
    await app.prepare();
  } catch (err) {
    await realtime.close();
    prometheus.dispose();
    setRuntime(undefined);
    server.close();
    throw err;
  }
  handle = app.getRequestHandler();
  markReady();
  const health = await checkHealth(tracking);
  logger.info(
    { url, dev, auth: dashboardToken ? "token" : "none", storage: tracking.storage.kind, health, limits },
    "pipewatch server listening",
  );
  if (health.status === "unhealthy")
    logger.warn({ storage: health.storage, error: health.error }, "storage is not readable: /api/health answers 503 until it is");

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    io: realtime.io,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await realtime.close();
        const force = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_AFTER_MS);
        force.unref();
        await stopped;
        clearTimeout(force);
        prometheus.dispose();
        await app.close().catch((err: unknown) => logger.warn({ err }, "next did not close cleanly"));
        setRuntime(undefined);
      })();
      return closing;
    },
  };
}
