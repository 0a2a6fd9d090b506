import { afterAll, beforeAll } from "vitest";
import type { Redis } from "ioredis";
import { RedisPipelineStorage } from "../../lib";
import { runStorageContract } from "../../lib/tracking/storage/contract";
import { connect, deleteKeys, silentLogger, uniquePrefix } from "./helpers";

let redis: Redis;
const base = uniquePrefix("contract");
let n = 0;

beforeAll(() => {
  redis = connect();
});
afterAll(async () => {
  await deleteKeys(redis, base);
  redis.disconnect();
});

runStorageContract("RedisPipelineStorage", async () => {
  // A fresh prefix per test: the battery expects an empty storage.
  const prefix = `${base}${++n}:`;
  const storage = new RedisPipelineStorage(redis, { keyPrefix: prefix, logger: silentLogger() });
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      await deleteKeys(redis, prefix);
    },
  };
});
