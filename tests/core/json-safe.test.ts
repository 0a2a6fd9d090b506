/** Results are stored JSON-safe; statuses serialize to the API's JSON and back. */
import { describe, expect, it } from "vitest";
import {
  InMemoryBroker,
  Pipeline,
  parseStatus,
  serializeStatus,
  summarize,
  toJsonSafe,
  type PipelineStatus,
  type TruncatedResult,
} from "../../lib";
import { memoryTracking } from "./helpers";

describe("toJsonSafe", () => {
  it("converts what JSON cannot hold without throwing", () => {
    const circular: Record<string, unknown> = { name: "loop" };
    circular.self = circular;
    const shared = { x: 1 };
    const value = {
      big: 12345678901234567890n,
      when: new Date("2026-11-28T00:00:00.000Z"),
      invalidDate: new Date("nope"),
      map: new Map<unknown, unknown>([
        ["a", 1],
        [2, new Set([1, 2])],
      ]),
      set: new Set(["x", "y"]),
      circular,
      twice: [shared, shared],
      fn: function namedFn() {},
      arrow: () => 1,
      sym: Symbol("s"),
      undef: undefined,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      err: new TypeError("bad"),
      bytes: new Uint8Array([1, 2]),
      nested: [undefined, 1n],
    };
    const safe = toJsonSafe(value);
    expect(() => JSON.stringify(safe)).not.toThrow();
    expect(JSON.parse(JSON.stringify(safe))).toEqual({
      big: "12345678901234567890",
      when: "2026-11-28T00:00:00.000Z",
      invalidDate: null,
      map: { a: 1, 2: [1, 2] },
      set: ["x", "y"],
      circular: { name: "loop", self: "[Circular]" },
      twice: [{ x: 1 }, { x: 1 }],
      fn: "[Function namedFn]",
      arrow: "[Function arrow]",
      sym: "Symbol(s)",
      nan: "NaN",
      inf: "Infinity",
      err: { name: "TypeError", message: "bad" },
      bytes: [1, 2],
      nested: [null, "1"],
    });
  });

  it("keeps a __proto__ key as data, never as a prototype", () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as object;
    const safe = toJsonSafe(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(safe)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((safe as { polluted?: unknown }).polluted).toBeUndefined();
    expect(JSON.stringify(safe)).toBe('{"__proto__":{"polluted":true},"ok":1}');
  });

  it("handles top-level primitives", () => {
    expect(toJsonSafe(undefined)).toBeNull();
    expect(toJsonSafe(5n)).toBe("5");
    expect(toJsonSafe("s")).toBe("s");
    expect(toJsonSafe(Number.NEGATIVE_INFINITY)).toBe("-Infinity");
    expect(toJsonSafe(() => 1)).toMatch(/^\[Function/);
  });

  it("replaces a result larger than maxBytes with a truncated marker", () => {
    const big = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, label: `row ${i} ✓` })) };
    const json = JSON.stringify(big);
    const marker = toJsonSafe(big, 64 * 1024) as TruncatedResult;
    expect(marker.truncated).toBe(true);
    expect(marker.bytes).toBe(Buffer.byteLength(json, "utf8"));
    expect(json.startsWith(marker.preview)).toBe(true);
    expect(marker.preview.length).toBeGreaterThan(0);
    expect(marker.preview.length).toBeLessThan(json.length);
    const long = "é".repeat(40_000);
    expect(toJsonSafe(long, 64 * 1024)).toMatchObject({ truncated: true, bytes: 80_002 });
    expect(toJsonSafe("é".repeat(30_000), 64 * 1024)).toBe("é".repeat(30_000));
  });

  it("stores step and run results JSON-safe, truncated past the manager's maxResultBytes", async () => {
    const { tracking } = memoryTracking({ maxResultBytes: 1024 });
    const p = new Pipeline(new InMemoryBroker())
      .step("weird", () => ({ id: 1n, tags: new Set(["a"]), at: new Date(0) }))
      .step("huge", () => "x".repeat(5000))
      .withTracking(tracking);
    const res = await (await p.kiq()).waitResult();
    expect(res.returnValue).toBe("x".repeat(5000));
    const status = (await tracking.getStatus(p.pipelineId))!;
    expect(status.steps[0]!.result).toEqual({ id: "1", tags: ["a"], at: "1970-01-01T00:00:00.000Z" });
    expect(status.steps[1]!.result).toMatchObject({ truncated: true, bytes: 5002 });
    expect(status.result).toMatchObject({ truncated: true, bytes: 5002 });
  });
});

describe("serializeStatus / parseStatus", () => {
  const t0 = new Date("2026-11-28T08:00:00.000Z");
  const status: PipelineStatus = {
    pipelineId: "etl_2026_11_28",
    pipelineName: "etl",
    status: "FAILED",
    pipelineType: "dataflow",
    startedAt: t0,
    completedAt: new Date(t0.getTime() + 1500),
    durationMs: 1500.25,
    result: null,
    error: "x".repeat(300),
    steps: [
      {
        stepName: "load",
        status: "COMPLETED",
        startedAt: t0,
        completedAt: new Date(t0.getTime() + 500),
        durationMs: 500,
        result: { rows: [1, null, "a"] },
        error: null,
        dependsOn: [],
        attempts: 2,
        workerId: "host:1",
      },
      {
        stepName: "stats",
        status: "FAILED",
        startedAt: new Date(t0.getTime() + 500),
        completedAt: new Date(t0.getTime() + 1500),
        durationMs: 1000,
        result: null,
        error: "boom",
        dependsOn: ["load"],
        attempts: 1,
        workerId: "host:2",
      },
      {
        stepName: "publish",
        status: "CANCELLED",
        startedAt: null,
        completedAt: null,
        durationMs: null,
        result: null,
        error: null,
        dependsOn: ["stats"],
        attempts: 0,
        workerId: null,
      },
    ],
  };

  it("writes ISO-8601 UTC dates and the API's camelCase names, and reads them back", () => {
    const json = serializeStatus(status);
    expect(json.startedAt).toBe("2026-11-28T08:00:00.000Z");
    expect(json.steps[2]!.startedAt).toBeNull();
    const text = JSON.stringify(json);
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual([
      "completedAt",
      "durationMs",
      "error",
      "pipelineId",
      "pipelineName",
      "pipelineType",
      "result",
      "startedAt",
      "status",
      "steps",
    ]);
    expect(Object.keys((JSON.parse(text) as { steps: object[] }).steps[0]!).sort()).toEqual([
      "attempts",
      "completedAt",
      "dependsOn",
      "durationMs",
      "error",
      "result",
      "startedAt",
      "status",
      "stepName",
      "workerId",
    ]);
    expect(parseStatus(JSON.parse(text))).toEqual(status);
  });

  it("refuses malformed JSON forms", () => {
    const good = JSON.parse(JSON.stringify(serializeStatus(status))) as Record<string, unknown>;
    expect(() => parseStatus({ ...good, status: "DONE" })).toThrow(/Invalid pipeline status/);
    expect(() => parseStatus({ ...good, startedAt: "yesterday" })).toThrow(/Invalid pipeline status/);
    expect(() => parseStatus({ ...good, pipelineId: "has space" })).toThrow(/Invalid pipeline status/);
    expect(() => parseStatus(null)).toThrow(/Invalid pipeline status/);
  });

  it("summarizes to the list form with the error cut to 200 characters", () => {
    expect(summarize(status)).toEqual({
      pipelineId: "etl_2026_11_28",
      pipelineName: "etl",
      status: "FAILED",
      pipelineType: "dataflow",
      startedAt: "2026-11-28T08:00:00.000Z",
      completedAt: "2026-11-28T08:00:01.500Z",
      durationMs: 1500.25,
      error: "x".repeat(200),
      stepsTotal: 3,
      stepsCompleted: 1,
      stepsFailed: 1,
      currentStep: null,
    });
  });
});
