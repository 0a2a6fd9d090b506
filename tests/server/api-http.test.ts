/** The REST API's HTTP behaviour (docs/api.md) against the real server: health, unknown paths, methods, limits, compression. */
import { request } from "node:http";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, startApiServer } from "./api-server";
import type { TestServer } from "./helpers";

let server: TestServer;
let completedId: string;

beforeAll(async () => {
  ({ server, completedId } = await startApiServer());
});
afterAll(async () => {
  await server?.close();
});

const { get, json } = apiClient(() => server.url);

describe("GET /api/health and unknown paths", () => {
  it("is healthy with the storage kind", async () => {
    const { status, body } = await json("/api/health");
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "healthy", storage: "memory" });
    expect(typeof body.uptimeSeconds).toBe("number");
  });

  it("answers unknown /api paths with a JSON 404, never HTML", async () => {
    for (const [path, method] of [
      ["/api/nope", "GET"],
      ["/api/pipelines/x/y/z", "GET"],
      ["/api/nope", "POST"],
      ["/api/metrics/other", "DELETE"],
    ] as const) {
      const { status, body } = await json(path, { method });
      expect(status).toBe(404);
      expect(typeof body.error).toBe("string");
    }
  });

  it("echoes a request id", async () => {
    const res = await get("/api/health", { headers: { "x-request-id": "trace-123" } });
    expect(res.headers.get("x-request-id")).toBe("trace-123");
    expect((await get("/api/health")).headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the router", () => {
  it("answers another method with a JSON 405 naming the allowed ones, OPTIONS with them, HEAD like GET", async () => {
    const put = await json("/api/pipelines", { method: "PUT" });
    expect(put.status).toBe(405);
    expect(put.body.error).toBe("Method PUT is not allowed here");
    const post = await get(`/api/pipelines/${completedId}`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, DELETE, HEAD, OPTIONS");
    expect((await json("/api/pipelines/x/cancel", { method: "GET" })).status).toBe(405);
    const options = await get("/api/metrics", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    const head = await get("/api/health", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toContain("application/json");
    expect(await head.text()).toBe("");
  });

  it("sends no-store, a content length, and takes a trailing slash", async () => {
    const res = await get("/api/pipelines/", { headers: { "accept-encoding": "identity" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(Number(res.headers.get("content-length"))).toBe(Buffer.byteLength(text));
    expect((await json("/api/pipelines/bad%ZZid")).body.error as string).toMatch(/^id\b/);
    expect((await json("/api/")).status).toBe(404);
    expect((await json("/api")).status).toBe(404);
  });

  it("refuses a body over 16 KiB with a 413 and closes that connection", async () => {
    const res = await json(`/api/pipelines/${completedId}/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(20_000) }),
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatch(/^body\b/);
    expect((await json("/api/health")).status).toBe(200);
  });
});

describe("compression", () => {
  function raw(
    path: string,
    headers: Record<string, string>,
    method = "GET",
  ): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on("error", reject);
      req.end();
    });
  }

  it("gzips a body over 1 KiB when the client accepts it, and only then", async () => {
    const plain = await raw("/api/metrics?days=7", {});
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(1_024);
    expect(plain.headers.vary).toBe("accept-encoding");
    const zipped = await raw("/api/metrics?days=7", { "accept-encoding": "br, gzip;q=0.8" });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(Number(zipped.headers["content-length"])).toBe(zipped.body.length);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 2);
    const decoded = JSON.parse(gunzipSync(zipped.body).toString("utf8")) as Record<string, unknown>;
    expect(Object.keys(decoded)).toEqual(Object.keys(JSON.parse(plain.body.toString("utf8")) as object));
    for (const refused of ["gzip;q=0", "identity", "br", "gzip;q=0, *"]) {
      expect((await raw("/api/metrics?days=7", { "accept-encoding": refused })).headers["content-encoding"], refused).toBeUndefined();
    }
    expect((await raw("/api/metrics?days=7", { "accept-encoding": "*" })).headers["content-encoding"]).toBe("gzip");
    const head = await raw("/api/metrics?days=7", { "accept-encoding": "gzip" }, "HEAD");
    expect(head.headers["content-encoding"]).toBe("gzip");
    expect(head.body.length).toBe(0);
  });

  it("leaves a small body alone", async () => {
    const health = await raw("/api/health", { "accept-encoding": "gzip" });
    expect(health.headers["content-encoding"]).toBeUndefined();
    expect(JSON.parse(health.body.toString("utf8"))).toMatchObject({ status: "healthy" });
  });
});
