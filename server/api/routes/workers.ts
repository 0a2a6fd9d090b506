/**
 * GET /api/workers — every worker heard from within the last hour, online first;
 * GET /api/definitions — the pipelines the online workers can run, by name.
 * A storage without a worker registry answers empty lists.
 */
import { definitionsOf, listStoredWorkers, serializeWorker } from "pipewatch";
import { json } from "../respond";
import type { ApiRoute } from "../router";

export const workerRoutes: ApiRoute[] = [
  {
    path: "/api/workers",
    methods: {
      GET: async ({ deps: { tracking } }) => json({ items: (await listStoredWorkers(tracking.storage)).map(serializeWorker) }),
    },
  },
  {
    path: "/api/definitions",
    methods: {
      GET: async ({ deps: { tracking } }) => json({ items: definitionsOf(await listStoredWorkers(tracking.storage)) }),
    },
  },
];
