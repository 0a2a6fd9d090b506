/**
 * What every request passes before the API or Next: malformed percent-encoding is a 400 (Next
 * answered 500), and without a dashboard token a foreign Host header (DNS rebinding) is a 403 —
 * over HTTP and on the Socket.IO handshake.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostCheck, hostnameOf } from "../../server/host-check";
import { connectClient, startTestServer, type ClientSocket, type TestServer } from "./helpers";

let open: TestServer;
let withOrigins: TestServer;
let withToken: TestServer;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  [open, withOrigins, withToken] = await Promise.all([
    startTestServer(),
    startTestServer({ allowedOrigins: ["https://dash.example.com", "ops.internal"] }),
    startTestServer({ dashboardToken: "gate-token" }),
  ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await Promise.all([open, withOrigins, withToken].map((s) => s?.close()));
});

/** A raw request: fetch would not send a Host header of our choosing, nor a malformed path. */
function get(
  server: TestServer,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("malformed percent-encoding in the path", () => {
  it.each(["/pipelines/%ZZ", "/pipelines/%E0%A4%A", "/%"])("answers 400 text for the page %s", async (path) => {
    const res = await get(open, path);
    expect(res.status).toBe(400);
    expect(res.type).toContain("text/plain");
    expect(res.body).toMatch(/Malformed URL/);
    expect(res.body.length).toBeLessThan(200);
  });

  it.each(["/api/pipelines/%ZZ", "/api/pipelines/%E0%A4%A/status"])("answers 400 JSON naming the id for the API path %s", async (path) => {
    const res = await get(open, path);
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/json");
    expect(JSON.parse(res.body)).toEqual({ error: expect.stringMatching(/^id\b/) as unknown });
  });

  it("answers an unknown API path that does not decode with a JSON 404", async () => {
    const res = await get(open, "/api/%ZZ");
    expect(res.status).toBe(404);
    expect(res.type).toContain("application/json");
  });

  it("still serves a well-formed encoded path", async () => {
    expect((await get(open, "/api/pipelines/a%2Eb")).status).toBe(404);
  });
});

describe("Host check without a token (DNS rebinding)", () => {
  it("refuses a foreign Host with 403 JSON, pages and API alike, but leaves health open", async () => {
    for (const path of ["/api/pipelines", "/", "/pipelines/x", "/api/metrics"]) {
      const res = await get(open, path, { host: `attacker.example:${open.port}` });
      expect(res.status, path).toBe(403);
      expect(JSON.parse(res.body)).toEqual({ error: "Host not allowed" });
    }
    expect((await get(open, "/api/health", { host: "attacker.example" })).status).toBe(200);
  });

  it.each(["localhost", "localhost:3000", "LOCALHOST:1", "127.0.0.1:80", "127.4.5.6", "[::1]:3000", "[::1]"])(
    "serves Host %s",
    async (host) => {
      expect((await get(open, "/api/pipelines", { host })).status).toBe(200);
    },
  );

  it("serves the hosts of ALLOWED_ORIGINS, on any port", async () => {
    for (const host of ["dash.example.com", "dash.example.com:443", "ops.internal:3000"]) {
      expect((await get(withOrigins, "/api/pipelines", { host })).status, host).toBe(200);
    }
    expect((await get(withOrigins, "/api/pipelines", { host: "evil.example.com" })).status).toBe(403);
  });

  it("does not check the Host when a token guards the server", async () => {
    const res = await get(withToken, "/api/pipelines", { host: "dash.example.net", authorization: "Bearer gate-token" });
    expect(res.status).toBe(200);
  });

  it("refuses the socket handshake with a foreign Host even when its Origin matches it", async () => {
    const attacker = `attacker.example:${open.port}`;
    await expect(connectClient(open.url, { headers: { host: attacker, origin: `http://${attacker}` } })).rejects.toThrow();
    const local = await connectClient(open.url, { headers: { host: `localhost:${open.port}`, origin: `http://localhost:${open.port}` } });
    sockets.push(local);
    expect(local.connected).toBe(true);
  });
});

describe("createHostCheck", () => {
  it("parses Host values and honours the bind address", () => {
    expect(hostnameOf("Example.COM.:8080")).toBe("example.com");
    expect(hostnameOf("[::1]:3000")).toBe("[::1]");
    expect(hostnameOf("[::1]x")).toBeNull();
    expect(hostnameOf("a b")).toBeNull();
    const check = createHostCheck({ bindHost: "192.168.1.5", allowedOrigins: [] });
    expect(check("192.168.1.5:3000")).toBe(true);
    expect(check("192.168.1.6:3000")).toBe(false);
    expect(check(undefined)).toBe(true);
    expect(createHostCheck({ bindHost: "::1", allowedOrigins: [] })("[::1]:1")).toBe(true);
    expect(createHostCheck({ bindHost: "0.0.0.0", allowedOrigins: [] })("0.0.0.0:1")).toBe(false);
  });
});
