/** The manager's lease timers are unref'd: a script that records a run and returns exits on its own. */
import { spawn } from "node:child_process";
import { expect, it } from "vitest";

it("a script that records a run and returns exits by itself", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/core/fixtures/record-and-return.ts"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d));
  // A timer that kept the process alive would make this wait until the test's timeout.
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect(code).toBe(0);
  expect(out.trim()).toBe("COMPLETED");
}, 20_000);
