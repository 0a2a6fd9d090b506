/** The live list's merge arithmetic: what a batch or a resync does to the loaded rows. */
import { describe, expect, it } from "vitest";
import { insertSorted, matchesFilter, mergeSnapshot, RowIndex } from "../../components/list/list-merge";
import type { PipelineSummary, Status } from "../../lib/tracking/models";

const summary = (id: string, second: number, status: Status = "RUNNING", name: string | null = "etl"): PipelineSummary => ({
  pipelineId: id,
  pipelineName: name,
  status,
  pipelineType: "sequential",
  startedAt: new Date(Date.UTC(2026, 10, 29, 6, 0, second)).toISOString(),
  completedAt: null,
  durationMs: null,
  error: null,
  stepsTotal: 3,
  stepsCompleted: 0,
  stepsFailed: 0,
  currentStep: null,
});
const ids = (rows: PipelineSummary[]) => rows.map((r) => r.pipelineId);

describe("insertSorted", () => {
  const loaded = [summary("c", 30), summary("b", 20), summary("a", 10)];

  it("puts newer runs on top and never inserts a run that is already loaded", () => {
    const index = new RowIndex();
    const once = insertSorted(loaded, [summary("d", 40), summary("b", 20, "COMPLETED")], true, index);
    expect(ids(once)).toEqual(["d", "c", "b", "a"]);
    // The same run arriving again in a later batch (the race a stale ref used to cause) stays single.
    expect(ids(insertSorted(once, [summary("d", 40, "COMPLETED")], true, index))).toEqual(["d", "c", "b", "a"]);
  });

  it("places an older run in order, and leaves one older than every loaded row to paging", () => {
    expect(ids(insertSorted(loaded, [summary("bb", 25)], false))).toEqual(["c", "bb", "b", "a"]);
    expect(ids(insertSorted(loaded, [summary("old", 5)], false))).toEqual(["c", "b", "a"]);
    expect(ids(insertSorted(loaded, [summary("old", 5)], true))).toEqual(["c", "b", "a", "old"]);
  });
});

describe("mergeSnapshot", () => {
  it("takes the fetched page, keeps a status further along than it, and keeps runs newer than it on top", () => {
    const current = [summary("new", 50), summary("b", 20, "COMPLETED"), summary("a", 10, "RUNNING")];
    const fetched = [summary("b", 20, "RUNNING"), summary("a", 10, "FAILED")];
    const merged = mergeSnapshot(current, fetched);
    expect(ids(merged)).toEqual(["new", "b", "a"]);
    expect(merged.map((r) => r.status)).toEqual(["RUNNING", "COMPLETED", "FAILED"]);
  });
});

describe("matchesFilter", () => {
  it("matches status and a case-insensitive id or name prefix", () => {
    const row = summary("Nightly_1", 1, "FAILED", "Warehouse");
    expect(matchesFilter(row, { status: "FAILED", q: "night" })).toBe(true);
    expect(matchesFilter(row, { status: null, q: "ware" })).toBe(true);
    expect(matchesFilter(row, { status: "RUNNING", q: "" })).toBe(false);
    expect(matchesFilter(row, { status: null, q: "house" })).toBe(false);
  });
});
