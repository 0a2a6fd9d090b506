/**
 * Hostile input over every API route: long strings, unicode, `__proto__`, negative and huge numbers,
 * path tricks, malformed JSON bodies. Nothing may answer 5xx or HTML, and the server stays healthy.
 * Deterministic: a seeded generator adds random strings to the fixed hostile list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runQuickPipeline, startTestServer, type TestServer } from "./helpers";

let server: TestServer;
let knownId: string;

beforeAll(async () => {
  server = await startTestServer();
  knownId = await runQuickPipeline(server.broker, server.tracking, "fuzz");
});
afterAll(async () => {
  await server?.close();
});

function seeded(seed: number): () => number {
  return () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
}

const random = seeded(20261128);
const ALPHABET = "aZ9._:-/\\%?#&=+ \t\n'\"<>{}[]$;\u0000é漢🙂\u202e";
const CHARS = Array.from(ALPHABET); // by code point, so no lone surrogate
const randomString = (max: number) =>
  Array.from({ length: Math.floor(random() * max) }, () => CHARS[Math.floor(random() * CHARS.length)]).join("");

const HOSTILE = [
  "",
  " ",
  "0",
  "-1",
  "-0",
  "1e309",
  "9".repeat(400),
  "NaN",
  "Infinity",
  "1.5",
  "0x10",
  "500",
  "501",
  "91",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "{}",
  "[]",
  "null",
  "undefined",
  "true",
  "x".repeat(5_000),
  "é漢🙂",
  "\u202eRLO",
  "%00",
  "%ZZ",
  "../../etc/passwd",
  "..%2F..%2F",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "$where",
  "RUNNING",
  "running",
  "2026-02-30T00:00:00Z",
  "2026-11-28T25:00:00Z",
  "-271821-04-20T00:00:00Z",
  ...Array.from({ length: 25 }, () => randomString(300)),
];

const enc = (v: string) => encodeURIComponent(v);

async function expectSane(method: string, path: string, init: RequestInit = {}): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${server.url}${path}`, { method, redirect: "manual", ...init });
  } catch (err) {
    throw new Error(`${method} ${path.slice(0, 120)} failed: ${String(err)}`);
  }
  const body = await res.text();
  expect(res.status, `${method} ${path.slice(0, 120)} → ${res.status} ${body.slice(0, 200)}`).toBeLessThan(500);
  if (res.status >= 400 && path.startsWith("/api/")) {
    expect(res.headers.get("content-type"), `${method} ${path.slice(0, 120)} answered non-JSON`).toContain("application/json");
    expect(body).not.toMatch(/\n\s+at\s/); // no stack trace
  }
}

describe("fuzz", () => {
  it("query parameters of the list, history and metrics routes", async () => {
    for (const value of HOSTILE) {
      const v = enc(value);
      await expectSane("GET", `/api/pipelines?status=${v}&q=${v}&limit=${v}&cursor=${v}`);
      await expectSane("GET", `/api/pipelines?q=${v}`);
      await expectSane("GET", `/api/pipelines?cursor=${v}`);
      await expectSane("GET", `/api/pipelines?limit=${v}`);
      await expectSane("GET", `/api/pipelines?__proto__=${v}&constructor[prototype][x]=${v}`);
      await expectSane("GET", `/api/history?limit=${v}&since=${v}`);
      await expectSane("GET", `/api/history?since=${v}`);
      await expectSane("GET", `/api/metrics?days=${v}`);
    }
  });

  it("pipeline ids in every /api/pipelines/{id} route and method", async () => {
    for (const value of [...HOSTILE, knownId].filter((v) => v !== "")) {
      const id = enc(value);
      await expectSane("GET", `/api/pipelines/${id}`);
      await expectSane("GET", `/api/pipelines/${id}/status`);
      await expectSane("POST", `/api/pipelines/${id}/cancel`);
      await expectSane("DELETE", `/api/pipelines/${id}-not-there`);
    }
  });

  it("malformed and hostile bodies", async () => {
    const bodies = [
      "{",
      "[1,2",
      "null",
      "[]",
      '"str"',
      '{"__proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      "x".repeat(40_000),
      "\u0000\u0001",
      '{"token":' + "9".repeat(400) + "}",
      "token=a&token=b&__proto__=x",
    ];
    for (const body of bodies) {
      for (const type of ["application/json", "application/x-www-form-urlencoded", "text/plain"]) {
        await expectSane("POST", `/api/pipelines/${knownId}/cancel`, { body, headers: { "content-type": type } });
        await expectSane("POST", "/api/auth/login", { body, headers: { "content-type": type } });
        await expectSane("POST", "/api/auth/logout", { body, headers: { "content-type": type } });
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("unknown paths and methods", async () => {
    for (const value of HOSTILE.slice(0, 30)) {
      await expectSane("GET", `/api/${enc(value)}`);
      await expectSane("PUT", `/api/pipelines/${enc(value) || "x"}/cancel`);
      await expectSane("PATCH", `/api/metrics?days=${enc(value)}`);
    }
    await expectSane("GET", "/api/metrics/prometheus?x=%ZZ");
    await expectSane("GET", "/api/health?__proto__=1");
  });

  it("leaves the server healthy and its data intact", async () => {
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "healthy" });
    const run = await fetch(`${server.url}/api/pipelines/${knownId}`);
    expect(run.status).toBe(200);
  });
});
