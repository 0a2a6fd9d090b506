/** The distributed scenario (scenario.ts) on the test Redis, a single server. */
import { startRedisTestServer } from "../server/helpers";
import { REDIS_URL, uniquePrefix } from "../redis/helpers";
import { describeDistributed } from "./scenario";

describeDistributed("distributed runs over worker processes and two dashboards (one Redis server)", async () => {
  const prefix = uniquePrefix("dist");
  return {
    env: { REDIS_URL, REDIS_PREFIX: prefix, EVENTS_URL: REDIS_URL },
    // Its stop() also deletes the prefix's keys, BullMQ's included.
    dashboard: () => startRedisTestServer(prefix),
    stop: async () => {},
  };
});
