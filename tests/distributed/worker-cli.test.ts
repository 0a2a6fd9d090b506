/** `pipewatch worker` refusing what it cannot run: exit 1 with the reason, before touching Redis. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function worker(module: string, env: Record<string, string> = {}) {
  const res = spawnSync(process.execPath, ["--import", "tsx", "lib/cli/pipewatch.ts", "worker", module], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: res.status, err: res.stderr };
}

describe("pipewatch worker <module>", () => {
  it("exits 1 naming what is wrong: a missing module, no pipeline exported, a pipeline of another broker, a bad setting", () => {
    expect(worker("tests/distributed/fixtures/nope.ts")).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^error: cannot load tests\/distributed\/fixtures\/nope\.ts/),
    });
    expect(worker("tests/distributed/fixtures/no-pipelines.ts")).toMatchObject({
      code: 1,
      err: expect.stringContaining("exports no Pipeline"),
    });
    expect(worker("tests/distributed/fixtures/in-memory-pipelines.ts")).toMatchObject({
      code: 1,
      err: expect.stringContaining('pipeline "local" uses InMemoryBroker: a worker runs pipelines of a BullMQBroker'),
    });
    expect(worker("tests/distributed/fixtures/no-pipelines.ts", { WORKER_CONCURRENCY: "many" })).toMatchObject({
      code: 1,
      err: 'error: WORKER_CONCURRENCY must be a number, got "many"\n',
    });
  });
});
