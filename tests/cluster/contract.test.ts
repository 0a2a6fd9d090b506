/** The whole storage battery against a Redis Cluster of three masters started for this file. */
import { afterAll, beforeAll } from "vitest";
import type { Cluster } from "ioredis";
import { RedisPipelineStorage } from "../../lib";
import { runStorageContract } from "../../lib/tracking/storage/contract";
import { silentLogger } from "../redis/helpers";
import { startOwnCluster, type OwnCluster } from "../own-cluster";

let cluster: OwnCluster;
let redis: Cluster;
let n = 0;

beforeAll(async () => {
  cluster = await startOwnCluster();
  redis = cluster.connect();
});
afterAll(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

runStorageContract("RedisPipelineStorage on Redis Cluster", async () => {
  // A fresh hash-tagged prefix per test (an empty storage); the cluster goes away with its keys.
  const storage = new RedisPipelineStorage(redis, { keyPrefix: `{pwc${++n}}:`, logger: silentLogger() });
  return { storage, cleanup: () => storage.close() };
});
