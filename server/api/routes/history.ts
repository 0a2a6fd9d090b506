/** GET /api/history?limit=&since= — summaries newest first. */
import { summarize } from "pipewatch";
import { historyQuerySchema, parseQuery } from "../params";
import { json } from "../respond";
import type { ApiRoute } from "../router";

export const historyRoute: ApiRoute = {
  path: "/api/history",
  methods: {
    GET: async ({ query, deps: { tracking } }) =>
      json({ items: (await tracking.getHistory(parseQuery(query, historyQuerySchema))).map(summarize) }),
  },
};
