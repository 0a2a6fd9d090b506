/**
 * The Redis the tests use: TEST_REDIS_URL when set, otherwise the machine's Redis at
 * 127.0.0.1:6379 in database 15, so test keys never land in database 0 next to real data.
 * Clients built from it keep the URL's database (ioredis reads the path).
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL || "redis://127.0.0.1:6379/15";
