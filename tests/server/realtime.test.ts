/** Live events (docs/events.md) with a real socket.io-client against the real server. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineStatus, PipelineSummary, StepStatusJSON } from "../../lib/tracking/models";
import { pipelineRoom } from "../../server/socket-guards";
import { createTurnWrites } from "../../server/turn-writes";
import { connectClient, gatedPipeline, startTestServer, waitForEvent, type ClientSocket, type TestServer } from "./helpers";
import { makeStep } from "../../lib/tracking/storage/contract/builders";

let server: TestServer;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

async function client(): Promise<ClientSocket> {
  const socket = await connectClient(server.url);
  sockets.push(socket);
  return socket;
}

describe("pipeline:update", () => {
  it("delivers RUNNING then COMPLETED for a run started after the client connected", async () => {
    const socket = await client();
    const updates: PipelineSummary[] = [];
    socket.on("pipeline:update", (s) => updates.push(s));
    const { pipeline, release } = gatedPipeline(server.broker, server.tracking, "live");
    const task = await pipeline.kiq();
    const id = task.pipelineId;
    await waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id && s.status === "RUNNING");
    await release("first");
    await release("second");
    const done = await waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id && s.status === "COMPLETED");
    expect(done).toMatchObject({ pipelineName: "live", stepsTotal: 2, stepsCompleted: 2, stepsFailed: 0, currentStep: null });
    expect(done).not.toHaveProperty("steps");
    // Exactly a PipelineSummary, nothing more: no steps, results or internals.
    expect(Object.keys(done).sort()).toEqual([
      "completedAt",
      "currentStep",
      "durationMs",
      "error",
      "pipelineId",
      "pipelineName",
      "pipelineType",
      "startedAt",
      "status",
      "stepsCompleted",
      "stepsFailed",
      "stepsTotal",
    ]);
    expect(typeof done.startedAt).toBe("string");
    // The final state is the last one delivered for that run.
    expect(updates.filter((u) => u.pipelineId === id).at(-1)!.status).toBe("COMPLETED");
  });

  it("coalesces a burst but always delivers the latest state", async () => {
    const socket = await client();
    const updates: PipelineSummary[] = [];
    socket.on("pipeline:update", (s) => updates.push(s));
    const { Pipeline } = await import("../../lib/pipeline/pipeline");
    let burst = new Pipeline(server.broker, { name: "burst" }) as unknown as { step: (n: string, f: () => unknown) => unknown };
    for (let i = 0; i < 40; i++) burst = burst.step(`s${i}`, () => i) as typeof burst;
    const pipeline = (burst as unknown as InstanceType<typeof Pipeline>).withTracking(server.tracking);
    const task = await pipeline.kiq();
    await task.waitResult({ timeoutMs: 5_000 });
    await waitForEvent<PipelineSummary>(
      socket,
      "pipeline:update",
      (s) => s.pipelineId === task.pipelineId && s.status === "COMPLETED",
    ).catch(() => undefined);
    const mine = updates.filter((u) => u.pipelineId === task.pipelineId);
    expect(mine.at(-1)).toMatchObject({ status: "COMPLETED", stepsCompleted: 40 });
    // 80 step transitions plus start and end, in a few ms: far fewer emits than changes.
    expect(mine.length).toBeLessThan(20);
  });
});

describe("pipeline:update timing", () => {
  it("sends a run's end at once, even with a coalescing window far longer than the test may wait", async () => {
    const slow = await startTestServer({ coalesceMs: 60_000 });
    try {
      const socket = await connectClient(slow.url);
      sockets.push(socket);
      const { pipeline, release } = gatedPipeline(slow.broker, slow.tracking, "short");
      const task = await pipeline.kiq();
      const id = task.pipelineId;
      // RUNNING opens the window; both step finishes and the end fall inside it.
      await waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id && s.status === "RUNNING");
      const ended = waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id && s.status === "COMPLETED", 5_000);
      await release("first");
      await release("second");
      expect(await ended).toMatchObject({ stepsCompleted: 2 });
    } finally {
      await slow.close();
    }
  });
});

describe("pipeline:update from other writers of the storage", () => {
  const run = (pipelineId: string, stepsCompleted: number): PipelineStatus => ({
    pipelineId,
    pipelineName: "external",
    status: "RUNNING",
    pipelineType: "sequential",
    startedAt: new Date(),
    completedAt: null,
    durationMs: null,
    result: null,
    error: null,
    steps: ["a", "b", "c"].map((stepName, i) => makeStep(stepName, { status: i < stepsCompleted ? "COMPLETED" : "PENDING" })),
  });

  it("sends a state announced twice (two changes read back after both writes) once", async () => {
    const socket = await client();
    const id = `twice-${Date.now()}`;
    const seen: PipelineSummary[] = [];
    socket.on("pipeline:update", (s) => s.pipelineId === id && seen.push(s));
    const once = run(id, 1);
    await server.tracking.storage.saveStatus(once);
    await server.tracking.storage.saveStatus(once);
    await waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id);
    // A sleep on purpose: nothing more may arrive, so wait past the coalescing window's trailing emit.
    await new Promise((r) => setTimeout(r, 250));
    expect(seen.map((s) => s.stepsCompleted)).toEqual([1]);
    await server.tracking.storage.saveStatus({ ...once, steps: run(id, 2).steps });
    await waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id && s.stepsCompleted === 2);
  });

  it("delivers, in order, every update broadcast in one turn (writes held until the turn ends)", async () => {
    const socket = await client();
    const ids = Array.from({ length: 20 }, (_, i) => `turn-${Date.now()}-${i}`);
    const seen: string[] = [];
    socket.on("pipeline:update", (s) => ids.includes(s.pipelineId) && seen.push(s.pipelineId));
    await Promise.all(ids.map((id) => server.tracking.storage.saveStatus(run(id, 0))));
    await waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === ids.at(-1));
    expect(seen).toEqual(ids);
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
  });

  it("finds the TCP socket under this Engine.IO/ws version's websocket transport (else nothing is batched)", async () => {
    await client();
    const writes = createTurnWrites(server.io.sockets);
    const corked = () =>
      [...server.io.sockets.sockets.values()].map(
        (s) => (s.conn.transport as unknown as { socket: { _socket: { writableCorked: number } } }).socket._socket.writableCorked,
      );
    writes.hold();
    expect(corked().every((n) => n === 1)).toBe(true);
    writes.release();
    expect(corked().every((n) => n === 0)).toBe(true);
  });
});

describe("rooms and step:update", () => {
  it("sends step updates with results to subscribers only, and stops after unsubscribe", async () => {
    const member = await client();
    const outsider = await client();
    const { pipeline, release } = gatedPipeline(server.broker, server.tracking, "rooms");
    const task = await pipeline.kiq();
    const id = task.pipelineId;
    const outsiderSteps: unknown[] = [];
    outsider.on("step:update", (p) => outsiderSteps.push(p));
    expect(await member.emitWithAck("subscribe", { pipelineId: id })).toBe(true);
    const firstDone = waitForEvent<{ pipelineId: string; step: StepStatusJSON }>(
      member,
      "step:update",
      (p) => p.pipelineId === id && p.step.stepName === "first" && p.step.status === "COMPLETED",
    );
    await release("first");
    const payload = await firstDone;
    expect(payload.step.result).toEqual({ n: 1 });
    expect(typeof payload.step.completedAt).toBe("string");
    // Anything sent to the room before the leave arrives before the ack.
    expect(await member.emitWithAck("unsubscribe", { pipelineId: id })).toBe(true);
    const afterLeave: unknown[] = [];
    member.on("step:update", (p) => afterLeave.push(p));
    // The final step:updates go out with the final status, before its pipeline:update (same socket, in order).
    const completed = (socket: ClientSocket) =>
      waitForEvent<PipelineSummary>(socket, "pipeline:update", (s) => s.pipelineId === id && s.status === "COMPLETED");
    const ended = Promise.all([completed(member), completed(outsider)]);
    await release("second");
    await task.waitResult({ timeoutMs: 5_000 });
    await ended;
    expect(afterLeave).toEqual([]);
    expect(outsiderSteps).toEqual([]);
  });

  it("acknowledges subscribe and unsubscribe when asked; a subscribe without an ack still joins", async () => {
    const socket = await client();
    expect(await socket.emitWithAck("subscribe", { pipelineId: "a b" })).toBe(false);
    expect(await socket.emitWithAck("subscribe", { pipelineId: "ack-1" })).toBe(true);
    expect(await socket.emitWithAck("subscribe", { pipelineId: "ack-1" })).toBe(true); // already a member
    socket.emit("subscribe", { pipelineId: "no-ack" });
    // Handled in order: once this ack is back, the subscribe without one has been handled too.
    expect(await socket.emitWithAck("unsubscribe", { pipelineId: "ack-1" })).toBe(true);
    const rooms = server.io.sockets.sockets.get(socket.id!)?.rooms;
    expect(rooms?.has(pipelineRoom("no-ack"))).toBe(true);
    expect(rooms?.has(pipelineRoom("ack-1"))).toBe(false);
  });

  it("sends a new subscriber the run's steps and summary as they stand, with no further change", async () => {
    const watcher = await client();
    const { pipeline, release } = gatedPipeline(server.broker, server.tracking, "joined-late");
    const task = await pipeline.kiq();
    const id = task.pipelineId;
    const firstDone = waitForEvent<PipelineSummary>(watcher, "pipeline:update", (s) => s.pipelineId === id && s.stepsCompleted === 1);
    await release("first");
    await firstDone;
    // The run now waits at "second" and changes no more until released: whatever the newcomer
    // hears comes from its subscribe.
    const late = await client();
    const steps = new Map<string, StepStatusJSON>();
    late.on("step:update", (p) => p.pipelineId === id && steps.set(p.step.stepName, p.step));
    const summary = waitForEvent<PipelineSummary>(late, "pipeline:update", (s) => s.pipelineId === id);
    late.emit("subscribe", { pipelineId: id });
    expect(await summary).toMatchObject({ status: "RUNNING", stepsCompleted: 1, stepsTotal: 2 });
    expect(steps.get("first")).toMatchObject({ status: "COMPLETED", result: { n: 1 } });
    expect(steps.get("second")).toMatchObject({ status: "RUNNING" });
    await release("second");
    await waitForEvent<{ pipelineId: string; step: StepStatusJSON }>(
      late,
      "step:update",
      (p) => p.pipelineId === id && p.step.stepName === "second" && p.step.status === "COMPLETED",
    );
  });

  it("ignores invalid subscribe payloads and survives a flood of them", async () => {
    const socket = await client();
    const hostile: unknown[] = [
      null,
      42,
      "x",
      {},
      { pipelineId: "" },
      { pipelineId: "a b" },
      { pipelineId: "x".repeat(201) },
      { pipelineId: { $gt: "" } },
      { __proto__: { pipelineId: "p" } },
      JSON.parse('{"__proto__":{"polluted":1}}'),
    ];
    const answers: boolean[] = [];
    // 300 events in a burst: the rate limit refuses most and then disconnects the socket.
    const cut = new Promise((resolve) => socket.once("disconnect", resolve));
    for (let i = 0; i < 300; i++) socket.emit("subscribe", hostile[i % hostile.length] as { pipelineId: string }, (ok) => answers.push(ok));
    expect(await cut).toBe("io server disconnect");
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((ok) => !ok)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
  });
});

describe("pipeline:delete", () => {
  it("tells every client when a run is deleted through the API", async () => {
    const socket = await client();
    const { pipeline, release } = gatedPipeline(server.broker, server.tracking, "to-delete");
    const task = await pipeline.kiq();
    await release("first");
    await release("second");
    await task.waitResult({ timeoutMs: 5_000 });
    const deleted = waitForEvent<{ pipelineId: string }>(socket, "pipeline:delete", (p) => p.pipelineId === task.pipelineId);
    expect((await fetch(`${server.url}/api/pipelines/${task.pipelineId}`, { method: "DELETE" })).status).toBe(204);
    await deleted;
  });
});

describe("handshake", () => {
  it("refuses a browser Origin from another site", async () => {
    await expect(connectClient(server.url, { headers: { origin: "https://evil.example" } })).rejects.toThrow();
    const same = await connectClient(server.url, { headers: { origin: server.url } });
    sockets.push(same);
    expect(same.connected).toBe(true);
  });
});
