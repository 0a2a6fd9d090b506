/**
 * A tiny router for /api/*, run by the custom server before Next: a table of path patterns
 * (`:id` captures one segment, still percent-encoded) with a handler per method. Unknown paths get
 * a JSON 404, known paths with another method a JSON 405 with `Allow`; HEAD runs GET (node drops
 * the body), OPTIONS lists the methods.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { PipelineTrackingManager } from "pipewatch";
import type { ServerLimits } from "../limits";
import type { LoginThrottle } from "../login-throttle";
import { errorReply, json, sendReply, type Reply } from "./respond";

/** What the handlers need from the server process, passed in once (no global lookup). */
export interface ApiDeps {
  tracking: PipelineTrackingManager;
  storageKind: string;
  startedAt: Date;
  dashboardToken: string | null;
  logger: Logger;
  prometheus?: Registry;
  limits: ServerLimits;
  loginThrottle: LoginThrottle;
}

export interface ApiRequest {
  req: IncomingMessage;
  query: URLSearchParams;
  /** Captured path segments by name, percent-encoded as received. */
  params: Readonly<Record<string, string>>;
  deps: ApiDeps;
}

export type Method = "GET" | "POST" | "DELETE";
export type ApiHandler = (request: ApiRequest) => Promise<Reply>;
export interface ApiRoute {
  path: string;
  methods: Partial<Record<Method, ApiHandler>>;
}

interface CompiledRoute {
  segments: string[];
  methods: Partial<Record<string, ApiHandler>>;
  allow: string;
}

export type ApiDispatch = (req: IncomingMessage, res: ServerResponse, url: URL, requestId: string) => void;

export function createApiRouter(routes: readonly ApiRoute[], deps: ApiDeps): ApiDispatch {
  const compiled: CompiledRoute[] = routes.map((route) => ({
    segments: route.path.split("/"),
    methods: route.methods,
    allow: [...Object.keys(route.methods), ...("GET" in route.methods ? ["HEAD"] : []), "OPTIONS"].join(", "),
  }));

  return (req, res, url, requestId) => {
    const send = (reply: Reply) => sendReply(res, reply, req.headers["accept-encoding"]);
    const fail = (err: unknown) => send(errorReply(err, deps.logger, requestId));
    const pathname = url.pathname.length > 5 && url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
    const match = findRoute(compiled, pathname.split("/"));
    if (!match) return send(json({ error: `No API route ${url.pathname}` }, 404));
    const { route, params } = match;
    const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
    if (method === "OPTIONS") return send({ status: 204, headers: { allow: route.allow } });
    const handler = Object.hasOwn(route.methods, method) ? route.methods[method] : undefined;
    if (!handler) return send({ ...json({ error: `Method ${req.method} is not allowed here` }, 405), headers: { allow: route.allow } });
    try {
      handler({ req, query: url.searchParams, params, deps })
        .then(send, fail)
        .catch((err: unknown) => {
          deps.logger.error({ err, reqId: requestId }, "API response failed");
          res.destroy();
        });
    } catch (err) {
      fail(err);
    }
  };
}

function findRoute(routes: readonly CompiledRoute[], parts: string[]): { route: CompiledRoute; params: Record<string, string> } | null {
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; ok && i < parts.length; i++) {
      const pattern = route.segments[i]!;
      const part = parts[i]!;
      if (pattern.startsWith(":")) {
        if (part === "") ok = false;
        else params[pattern.slice(1)] = part;
      } else ok = pattern === part;
    }
    if (ok) return { route, params };
  }
  return null;
}
