/**
 * Step results whose every read can throw (Proxy traps, getters, iterators, toJSON, revoked
 * proxies): the run still completes, the result is stored with a marker in place of what could not
 * be read, and nothing escapes as an unhandled rejection or leaves a run RUNNING.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InMemoryBroker, InMemoryPipelineStorage, Pipeline, PipelineTrackingManager, toJsonSafe, type TrackingStorage } from "../../lib";
import { memoryTracking, silentLogger, sleep } from "./helpers";

const boom = () => {
  throw new Error("hostile");
};

function hostileValues(): Record<string, () => unknown> {
  const throwingArray = [1, 2, 3];
  Object.defineProperty(throwingArray, 1, { get: boom, enumerable: true });
  const throwingMap = new Map([["a", 1]]);
  throwingMap[Symbol.iterator] = boom as never;
  throwingMap.entries = boom as never;
  const throwingSet = new Set([1]);
  throwingSet[Symbol.iterator] = boom as never;
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  return {
    ownKeysProxy: () => new Proxy({}, { ownKeys: boom }),
    toJsonGetter: () => ({
      get toJSON() {
        return boom();
      },
    }),
    toJsonThrows: () => ({ toJSON: boom }),
    throwingMap: () => throwingMap,
    throwingSet: () => throwingSet,
    throwingArray: () => throwingArray,
    // Inside an object: a promise resolved with a revoked Proxy itself rejects (reading its `then` throws).
    revokedProxy: () => ({ handle: revoked }),
    getter: () => ({
      ok: 1,
      get bad() {
        return boom();
      },
    }),
    prototypeTrap: () => new Proxy({}, { getPrototypeOf: boom }),
    nested: () => ({ list: [new Proxy({}, { ownKeys: boom })], fine: "yes" }),
  };
}

describe("toJsonSafe with values whose reads throw", () => {
  it("never throws and marks exactly what could not be read", () => {
    const v = hostileValues();
    expect(toJsonSafe(v.ownKeysProxy!())).toBe("[Unserializable Object]");
    expect(toJsonSafe(v.toJsonGetter!())).toBe("[Unserializable Object]");
    expect(toJsonSafe(v.toJsonThrows!())).toBe("[Unserializable Object]");
    expect(toJsonSafe(v.throwingMap!())).toBe("[Unserializable Map]");
    expect(toJsonSafe(v.throwingSet!())).toBe("[Unserializable Set]");
    expect(toJsonSafe(v.throwingArray!())).toEqual([1, "[Unserializable property]", 3]);
    expect(toJsonSafe(v.revokedProxy!())).toEqual({ handle: "[Unserializable Proxy]" });
    expect(toJsonSafe(v.getter!())).toEqual({ ok: 1, bad: "[Unserializable property]" });
    expect(toJsonSafe(v.prototypeTrap!())).toMatch(/^\[Unserializable \w+\]$/);
    expect(toJsonSafe(v.nested!())).toEqual({ list: ["[Unserializable Object]"], fine: "yes" });
    expect(toJsonSafe({ fn: new Proxy(() => 1, { get: boom }) })).toEqual({ fn: "[Function anonymous]" });
  });
});

describe("a step returning such a value", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => void unhandled.push(err);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(() => {
    process.off("unhandledRejection", onUnhandled);
  });

  it.each(Object.keys(hostileValues()))("%s: the run completes and the result is stored with a marker", async (name) => {
    const { tracking, storage } = memoryTracking();
    const heard: unknown[] = [];
    tracking.addListener({ onStepComplete: (_id, _step, result) => void heard.push(result) });
    const make = hostileValues()[name]!;
    const pipe = new Pipeline(new InMemoryBroker())
      .step("hostile", () => make())
      .step("last", (x: unknown) => ({ wrapped: x }))
      .withTracking(tracking);
    const task = await pipe.kiq();
    const result = await task.waitResult({ timeoutMs: 2000 });
    expect(result.isErr).toBe(false);
    const stored = await storage.getStatus(task.pipelineId);
    expect(stored?.status).toBe("COMPLETED");
    expect(JSON.stringify(stored!.steps[0]!.result)).toMatch(/\[Unserializable /);
    expect(JSON.stringify(stored!.result)).toMatch(/\[Unserializable /);
    expect(heard).toHaveLength(2);
    await sleep(5); // on purpose: an unhandled rejection surfaces a moment later
    expect(unhandled).toEqual([]);
  });

  it("a storage whose saveStep throws synchronously never leaves the run RUNNING nor rejects unhandled", async () => {
    const inner = new InMemoryPipelineStorage();
    const broken: TrackingStorage = new Proxy(inner, {
      get(target, key) {
        if (key === "saveStep") return () => boom();
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(broken);
    const pipe = new Pipeline(new InMemoryBroker())
      .step("a", () => 1)
      .step("b", (x: number) => x + 1)
      .withTracking(tracking);
    const task = await pipe.kiq();
    expect(await task.waitResult({ timeoutMs: 2000 })).toMatchObject({ isErr: false, returnValue: 2 });
    expect((await inner.getStatus(task.pipelineId))?.status).toBe("COMPLETED");
    await sleep(5); // on purpose: an unhandled rejection surfaces a moment later
    expect(unhandled).toEqual([]);
  });

  it("a storage whose finishStatus throws still resolves waitResult (logged), with no unhandled rejection", async () => {
    const inner = new InMemoryPipelineStorage();
    const broken: TrackingStorage = new Proxy(inner, {
      get(target, key) {
        if (key === "finishStatus") return () => boom();
        const value = Reflect.get(target, key) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const tracking = new PipelineTrackingManager({ logger: silentLogger() }).withStorage(broken);
    const pipe = new Pipeline(new InMemoryBroker()).step("a", () => 1).withTracking(tracking);
    const task = await pipe.kiq();
    expect(await task.waitResult({ timeoutMs: 2000 })).toMatchObject({ isErr: false, returnValue: 1 });
    expect(tracking.isActive(task.pipelineId)).toBe(false);
    await sleep(5); // on purpose: an unhandled rejection surfaces a moment later
    expect(unhandled).toEqual([]);
  });
});
