/**
 * A step's result is handed to the storage, to every listener and to readers: none of them can
 * change what the others or the store see by mutating it.
 */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, InMemoryPipelineStorage, Pipeline, toJsonSafe, type PipelineStatus } from "../../lib";
import { deferred, flush, memoryTracking } from "./helpers";
import { makeStep } from "../../lib/tracking/storage/contract/builders";

type Box = { value: number; list: number[]; nested: { ok: boolean } };
const fresh = (): Box => ({ value: 1, list: [1], nested: { ok: true } });

/** Tries every kind of mutation; each must throw (frozen) rather than change the value. */
function tryToMutate(result: unknown): number {
  const box = result as Box;
  let refused = 0;
  for (const mutate of [
    () => {
      box.value = 999;
    },
    () => {
      box.list.push(2);
    },
    () => {
      box.nested.ok = false;
    },
    () => {
      delete (box as Partial<Box>).value;
    },
  ]) {
    try {
      mutate();
    } catch (err) {
      if (err instanceof TypeError) refused++;
    }
  }
  return refused;
}

describe("results are immutable once recorded", () => {
  it("toJsonSafe hands out a deep-frozen copy", () => {
    const input = { box: fresh(), set: new Set([1]), map: new Map([["k", [1]]]) };
    const safe = toJsonSafe(input) as { box: Box; set: number[]; map: { k: number[] } };
    for (const part of [safe, safe.box, safe.box.list, safe.box.nested, safe.set, safe.map, safe.map.k]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(tryToMutate(safe.box)).toBe(4);
    expect(safe.box).toEqual(fresh());
    // The copy is the caller's input no more: the input itself stays mutable.
    input.box.value = 2;
    expect(safe.box.value).toBe(1);
    expect(Object.isFrozen(toJsonSafe({ x: "y".repeat(100) }, 10))).toBe(true);
  });

  it("a listener or a reader mutating a step result changes nothing stored or heard by others", async () => {
    const { tracking } = memoryTracking();
    const gate = deferred();
    const p = new Pipeline<number>(new InMemoryBroker())
      .step("make", () => fresh())
      .step("wait", async (box: Box) => {
        await gate.promise;
        return box;
      })
      .withTracking(tracking);
    const refusals: number[] = [];
    const heard: unknown[] = [];
    tracking.addListener({ onStepComplete: (_id, _step, result) => void refusals.push(tryToMutate(result)) });
    tracking.addListener((status: PipelineStatus) => {
      const made = status.steps[0]!.result;
      if (made !== null) refusals.push(tryToMutate(made));
    });
    tracking.addListener({ onStepComplete: (_id, _step, result) => void heard.push(JSON.parse(JSON.stringify(result))) });

    const task = await p.kiq(0, { pipelineId: "immutable-run" });
    for (let i = 0; i < 50 && (await tracking.getStatus("immutable-run"))!.steps[0]!.status !== "COMPLETED"; i++) await flush();
    const running = (await tracking.getStatus("immutable-run"))!;
    expect(running.status).toBe("RUNNING");
    expect(tryToMutate(running.steps[0]!.result)).toBe(4);

    gate.resolve();
    await task.waitResult({ timeoutMs: 5000 });
    const final = (await tracking.getStatus("immutable-run"))!;
    expect(final.steps[0]!.result).toEqual(fresh());
    expect(final.steps[1]!.result).toEqual(fresh());
    expect(final.result).toEqual(fresh());
    expect(heard).toEqual([fresh(), fresh()]);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((n) => n === 4)).toBe(true);

    // A finished run is read as a fresh copy: the reader may change it, the store does not see it.
    (final.steps[0]!.result as Box).value = 5;
    (final.result as Box).list.push(9);
    const again = (await tracking.getStatus("immutable-run"))!;
    expect(again.steps[0]!.result).toEqual(fresh());
    expect(again.result).toEqual(fresh());
  });

  it("the memory storage keeps its own copy of results written to it directly", async () => {
    const storage = new InMemoryPipelineStorage();
    const t0 = new Date("2026-03-01T00:00:00.000Z");
    const mine = fresh();
    const odd = { big: 5n, when: new Date(0) };
    const run = (status: PipelineStatus["status"], id: string): PipelineStatus => ({
      pipelineId: id,
      pipelineName: null,
      status,
      pipelineType: "sequential",
      startedAt: t0,
      completedAt: status === "RUNNING" ? null : t0,
      durationMs: status === "RUNNING" ? null : 0,
      result: status === "RUNNING" ? null : mine,
      error: null,
      steps: [
        makeStep("a", { status: "COMPLETED", startedAt: t0, completedAt: t0, durationMs: 0, result: mine, attempts: 1 }),
        makeStep("b"),
      ],
    });
    await storage.saveStatus(run("RUNNING", "live"));
    await storage.saveStatus(run("COMPLETED", "done"));
    await storage.saveStep("live", {
      stepName: "b",
      status: "COMPLETED",
      startedAt: t0,
      completedAt: t0,
      durationMs: 0,
      result: odd,
      error: null,
      dependsOn: [],
      attempts: 1,
      workerId: null,
    });
    mine.value = 2;
    mine.list.push(2);
    odd.big = 6n;

    const live = (await storage.getStatus("live"))!;
    expect(live.steps[0]!.result).toEqual(fresh());
    // Stored JSON-safe, as the manager would have stored it.
    expect(live.steps[1]!.result).toEqual({ big: "5", when: "1970-01-01T00:00:00.000Z" });
    expect(tryToMutate(live.steps[0]!.result)).toBe(4);
    const done = (await storage.getStatus("done"))!;
    expect(done.result).toEqual(fresh());
    expect(done.steps[0]!.result).toEqual(fresh());
  });
});
