/** The parameter schemas the API routes and the pages share: what each accepts, and how a refusal reads. */
import { describe, expect, it } from "vitest";
import {
  checkPipelineId,
  checkQuery,
  correctedQuery,
  cursorParam,
  daysParam,
  historyQuerySchema,
  limitParam,
  listPageQuerySchema,
  listQuerySchema,
  metricsQuerySchema,
  pipelineIdParam,
  qParam,
  sinceParam,
  statusParam,
} from "../../server/params";

const messageOf = (result: { success: boolean; error?: { issues: { message: string }[] } }) => result.error?.issues[0]?.message;

describe("each parameter's schema", () => {
  it("status takes the five statuses and names them when it refuses", () => {
    expect(statusParam.parse("FAILED")).toBe("FAILED");
    expect(messageOf(statusParam.safeParse("DONE"))).toBe("status must be one of PENDING, RUNNING, COMPLETED, FAILED, CANCELLED");
    expect(statusParam.safeParse("failed").success).toBe(false);
  });

  it("q takes up to 200 characters as written", () => {
    expect(qParam.parse(" etl ")).toBe(" etl ");
    expect(qParam.safeParse("x".repeat(200)).success).toBe(true);
    expect(messageOf(qParam.safeParse("x".repeat(201)))).toBe("q must be at most 200 characters");
  });

  it.each([
    [limitParam, "limit", 1, 500],
    [daysParam, "days", 1, 90],
  ] as const)("%#: %s is a whole number in its range", (schema, name, min, max) => {
    expect(schema.parse(String(min))).toBe(min);
    expect(schema.parse(String(max))).toBe(max);
    for (const bad of [String(min - 1), String(max + 1), "abc", "1.5", "-1", " 7", "1e2"]) {
      expect(messageOf(schema.safeParse(bad))).toBe(`${name} must be an integer from ${min} to ${max}`);
    }
  });

  it("cursor is bounded in length (its meaning is the storage's to check)", () => {
    expect(cursorParam.safeParse("x".repeat(600)).success).toBe(true);
    expect(messageOf(cursorParam.safeParse("x".repeat(601)))).toBe("cursor is too long");
  });

  it("since takes an ISO-8601 date or date-time and yields a Date", () => {
    expect(sinceParam.parse("2026-11-30")).toEqual(new Date("2026-11-30"));
    expect(sinceParam.parse("2026-11-30T01:02:03+01:00")).toEqual(new Date("2026-11-30T00:02:03Z"));
    for (const bad of ["yesterday", "2026-13-45", "2026-11-30T01:02:03"]) {
      expect(messageOf(sinceParam.safeParse(bad))).toBe("since must be an ISO-8601 date or date-time");
    }
  });

  it("id is 1-200 characters of [A-Za-z0-9._:-]", () => {
    expect(pipelineIdParam.parse("etl:2026.11-30_a")).toBe("etl:2026.11-30_a");
    for (const bad of ["", "bad id", "a/b", "a".repeat(201)]) {
      expect(messageOf(pipelineIdParam.safeParse(bad))).toBe("id must be 1-200 characters of [A-Za-z0-9._:-]");
    }
  });
});

describe("checkQuery", () => {
  it("applies defaults, treats an empty value as absent and ignores unknown parameters", () => {
    expect(checkQuery(metricsQuerySchema, new URLSearchParams("days=&other=1"))).toEqual({ ok: true, value: { days: 7 } });
    expect(checkQuery(listQuerySchema, { status: "RUNNING", q: "", page: "2" })).toEqual({
      ok: true,
      value: { status: "RUNNING", limit: 50 },
    });
    expect(checkQuery(historyQuerySchema, {})).toEqual({ ok: true, value: { limit: 100 } });
  });

  it("reads a repeated parameter by its first value, from a URL or from a page's searchParams", () => {
    expect(checkQuery(metricsQuerySchema, new URLSearchParams("days=30&days=abc"))).toEqual({ ok: true, value: { days: 30 } });
    expect(checkQuery(metricsQuerySchema, { days: ["30", "abc"] })).toEqual({ ok: true, value: { days: 30 } });
    expect(checkQuery(metricsQuerySchema, { days: ["abc", "30"] }).ok).toBe(false);
  });

  it("reports every refused parameter once, in the API's words", () => {
    const checked = checkQuery(listQuerySchema, { status: "DONE", q: "x".repeat(201), limit: "0", cursor: "c" });
    expect(checked).toEqual({
      ok: false,
      issues: [
        { param: "status", message: "status must be one of PENDING, RUNNING, COMPLETED, FAILED, CANCELLED" },
        { param: "q", message: "q must be at most 200 characters" },
        { param: "limit", message: "limit must be an integer from 1 to 500" },
      ],
    });
  });

  it("the list page reads only the list's filters", () => {
    expect(checkQuery(listPageQuerySchema, { status: "FAILED", q: "etl", limit: "0", cursor: "x".repeat(700) })).toEqual({
      ok: true,
      value: { status: "FAILED", q: "etl" },
    });
  });
});

describe("checkPipelineId", () => {
  it("decodes the path segment, then checks it", () => {
    expect(checkPipelineId("etl%3A42")).toEqual({ ok: true, value: "etl:42" });
    const refused = { ok: false, issues: [{ param: "id", message: "id must be 1-200 characters of [A-Za-z0-9._:-]" }] };
    expect(checkPipelineId("bad%20id")).toEqual(refused);
    expect(checkPipelineId("%E0%A4%A")).toEqual(refused);
  });
});

describe("correctedQuery", () => {
  const corrected = (schema: Parameters<typeof correctedQuery>[0], query: Record<string, string>) => {
    const checked = checkQuery(schema, query);
    if (checked.ok) throw new Error("expected a refusal");
    return correctedQuery(schema, query, checked.issues).toString();
  };

  it("puts a refused parameter back to its default", () => {
    expect(corrected(metricsQuerySchema, { days: "abc" })).toBe("days=7");
    expect(corrected(metricsQuerySchema, { days: "91" })).toBe("days=7");
  });

  it("drops a refused parameter without a default and keeps the accepted ones as written", () => {
    expect(corrected(listPageQuerySchema, { status: "DONE", q: "etl run" })).toBe("q=etl+run");
    expect(corrected(listPageQuerySchema, { status: "DONE" })).toBe("");
    expect(corrected(listPageQuerySchema, { status: "FAILED", q: "x".repeat(201), other: "1" })).toBe("status=FAILED");
  });

  it("yields a query that checks", () => {
    const query = { status: "DONE", q: "x".repeat(300) };
    const checked = checkQuery(listPageQuerySchema, query);
    if (checked.ok) throw new Error("expected a refusal");
    expect(checkQuery(listPageQuerySchema, correctedQuery(listPageQuerySchema, query, checked.issues)).ok).toBe(true);
  });
});
