/** The REST API (docs/api.md) as one dispatch function for the custom server: every route, one table. */
import { createApiRouter, type ApiDeps, type ApiDispatch } from "./router";
import { authRoutes } from "./routes/auth";
import { healthRoute } from "./routes/health";
import { historyRoute } from "./routes/history";
import { metricsRoutes } from "./routes/metrics";
import { pipelineRoutes } from "./routes/pipelines";
import { workerRoutes } from "./routes/workers";

export function createApiHandler(deps: ApiDeps): ApiDispatch {
  return createApiRouter([...pipelineRoutes, historyRoute, ...metricsRoutes, healthRoute, ...workerRoutes, ...authRoutes], deps);
}
