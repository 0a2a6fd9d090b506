/** Invalid pipeline definitions and ids are refused loudly, never reported as isErr. */
import { describe, expect, it } from "vitest";
import { InMemoryBroker, Pipeline, PipelineDefinitionError } from "../../lib";
import { memoryTracking } from "./helpers";

describe("invalid definitions are refused loudly, never as isErr", () => {
  it("throws at step() for a duplicate name, a self-dependency, a missing function or a bad name", () => {
    const p = new Pipeline(new InMemoryBroker()).step("a", () => 1);
    expect(() => p.step("a", () => 2)).toThrow(new PipelineDefinitionError('Duplicate step name "a"'));
    expect(() => p.step("b", () => 2, { dependsOn: ["b"] })).toThrow(PipelineDefinitionError);
    expect(() => p.step("c", null as never)).toThrow(PipelineDefinitionError);
    expect(() => p.step("", () => 1)).toThrow(PipelineDefinitionError);
    expect(() => new Pipeline(null as never)).toThrow(PipelineDefinitionError);
  });

  it.each([
    ["an empty pipeline", () => new Pipeline(new InMemoryBroker()), /at least one step/],
    [
      "an unknown dependency",
      () => new Pipeline(new InMemoryBroker()).step("a", () => 1).step("b", () => 1, { dependsOn: ["nope"] }),
      /unknown step "nope"/,
    ],
    [
      "a cycle",
      () =>
        new Pipeline(new InMemoryBroker())
          .step("root", () => 1)
          .step("x", () => 1, { dependsOn: ["root", "z"] })
          .step("y", () => 1, { dependsOn: ["x"] })
          .step("z", () => 1, { dependsOn: ["y"] }),
      /cycle/,
    ],
  ])("rejects kiq for %s and stores nothing", async (_what, build, message) => {
    const { tracking, storage } = memoryTracking();
    const p = build().withTracking(tracking);
    await expect(p.kiq()).rejects.toThrow(message);
    await expect(p.kiq()).rejects.toThrow(PipelineDefinitionError);
    expect(storage.size).toBe(0);
  });

  it.each(["", "has space", "x".repeat(201), "ünïcode", "a/b", 42])("rejects kiq for the pipeline id %j", async (id) => {
    const { tracking, storage } = memoryTracking();
    const p = new Pipeline(new InMemoryBroker()).step("a", () => 1).withTracking(tracking);
    await expect(p.kiq(undefined, { pipelineId: id as string })).rejects.toThrow(/Invalid pipelineId/);
    expect(storage.size).toBe(0);
    // The longest valid id is fine.
    const ok = await p.kiq(undefined, { pipelineId: `A-z_0.9:${"x".repeat(192)}` });
    expect((await ok.waitResult()).isErr).toBe(false);
  });
});
