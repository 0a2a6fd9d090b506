import { afterAll } from "vitest";
import { SqlitePipelineStorage } from "../../lib";
import { runStorageContract } from "../../lib/tracking/storage/contract";
import { silentLogger, tempDir } from "./helpers";

const temp = tempDir("contract");
let n = 0;

afterAll(() => temp.remove());

runStorageContract("SqlitePipelineStorage", async () => {
  // A fresh file per test: the battery expects an empty storage.
  const storage = new SqlitePipelineStorage({ path: temp.file(`t${++n}/runs.db`), logger: silentLogger() });
  return { storage, cleanup: () => storage.close() };
});
