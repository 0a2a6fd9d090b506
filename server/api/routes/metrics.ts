/**
 * GET /api/metrics?days= — PipelineMetrics over the last 1-90 UTC days (default 7);
 * GET /api/metrics/prometheus — Prometheus text from the server process's registry.
 */
import { metricsQuerySchema, parseQuery } from "../params";
import { ApiError, json } from "../respond";
import type { ApiRoute } from "../router";

export const metricsRoutes: ApiRoute[] = [
  {
    path: "/api/metrics",
    methods: {
      GET: async ({ query, deps: { tracking } }) => json(await tracking.getMetrics({ days: parseQuery(query, metricsQuerySchema).days })),
    },
  },
  {
    path: "/api/metrics/prometheus",
    methods: {
      GET: async ({ deps: { prometheus } }) => {
        if (!prometheus) throw new ApiError(503, "Prometheus metrics are not enabled in this process");
        return { status: 200, text: await prometheus.metrics(), headers: { "content-type": prometheus.contentType } };
      },
    },
  },
];
