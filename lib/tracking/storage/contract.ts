/**
 * The storage contract battery (like unstorage's `testDriver` or bull-board's adapter contract):
 * every `TrackingStorage` — memory, Redis, or a user's own — runs it against itself.
 *
 *   import { runStorageContract } from "pipewatch/testing";
 *   runStorageContract("postgres", async () => ({ storage: new PgStorage(pool), cleanup: () => truncate() }));
 *
 * `makeStorage` is called before every test and should give an empty storage (a fresh key prefix,
 * a fresh table); `cleanup` runs after the test. Each test also uses its own pipeline ids, so a
 * storage that leaks between tests shows up as a failure in the test that sees the leak, not as
 * silent cross-talk. Imports vitest, so only test files should import this module. The tests
 * themselves live by area in contract/ (runs, finish, lists, removal, metrics, change-feed, leases, workers).
 */
import { afterEach, beforeEach, describe } from "vitest";
import type { TrackingStorage } from "./types";
import type { StorageHarness } from "./contract/helpers";
import { describeChangeFeedContract } from "./contract/change-feed";
import { describeFinishContract } from "./contract/finish";
import { describeLeasesContract } from "./contract/leases";
import { describeListsContract } from "./contract/lists";
import { describeMetricsContract } from "./contract/metrics";
import { describeRemovalContract } from "./contract/removal";
import { describeRunsContract } from "./contract/runs";
import { describeWorkersContract } from "./contract/workers";

export { expectMetricsMatch, type StorageHarness } from "./contract/helpers";

export function runStorageContract(name: string, makeStorage: () => Promise<StorageHarness>): void {
  describe(`TrackingStorage contract: ${name}`, () => {
    let harness: StorageHarness;
    let storage: TrackingStorage;

    beforeEach(async () => {
      harness = await makeStorage();
      storage = harness.storage;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    const current = () => storage;
    describeRunsContract(current);
    describeFinishContract(current);
    describeListsContract(current);
    describeRemovalContract(current);
    describeMetricsContract(current);
    describeChangeFeedContract(current);
    describeLeasesContract(current);
    describeWorkersContract(current);
  });
}
