/** The distributed scenario (tests/distributed/scenario.ts) on a Redis Cluster of three masters started for this file. */
import { randomBytes } from "node:crypto";
import { PipelineTrackingManager, RedisPipelineStorage } from "pipewatch";
import { silentLogger } from "../redis/helpers";
import { startTestServer } from "../server/helpers";
import { startOwnCluster, type OwnCluster } from "../own-cluster";
import { describeDistributed } from "../distributed/scenario";

describeDistributed("distributed runs over worker processes and two dashboards (Redis Cluster)", async () => {
  const cluster: OwnCluster = await startOwnCluster();
  const prefix = `{pwd-${randomBytes(3).toString("hex")}}:`;
  return {
    env: { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_PREFIX: prefix, EVENTS_URL: `redis://127.0.0.1:${cluster.ports[0]}` },
    async dashboard() {
      const redis = cluster.connect();
      const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(
        new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() }),
      );
      const server = await startTestServer({ tracking });
      return {
        server,
        async stop() {
          await server.close();
          await tracking.close();
          redis.disconnect();
        },
      };
    },
    // The cluster goes away with every key.
    stop: () => cluster.stop(),
  };
});
