/** DASHBOARD_TOKEN set: pages redirect to login, the API needs the cookie or a Bearer token, so does the socket. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, runQuickPipeline, startTestServer, type ClientSocket, type TestServer } from "./helpers";

const TOKEN = "s3cret-token-for-tests";
let server: TestServer;
let runId: string;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  server = await startTestServer({ dashboardToken: TOKEN });
  runId = await runQuickPipeline(server.broker, server.tracking, "auth-run");
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await server?.close();
});

const req = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { redirect: "manual", ...init });

async function login(body: string, contentType: string): Promise<Response> {
  return req("/api/auth/login", { method: "POST", headers: { "content-type": contentType }, body });
}

describe("API routes", () => {
  it.each(["/api/pipelines", `/api/pipelines/${runId}`, "/api/metrics", "/api/history", "/api/metrics/prometheus", "/api/nope"])(
    "answer 401 JSON without credentials: %s",
    async (path) => {
      const res = await req(path);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toMatch(/Unauthorized/);
    },
  );

  it("refuse a wrong Bearer token and a forged cookie", async () => {
    expect((await req("/api/pipelines", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    expect((await req("/api/pipelines", { headers: { cookie: `pipewatch_session=${TOKEN}` } })).status).toBe(401);
    expect((await req("/api/pipelines", { method: "DELETE", headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
  });

  it("accept the Bearer token", async () => {
    const res = await req("/api/pipelines", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { items: unknown[] }).items.length).toBe(1);
  });

  it("leave /api/health open", async () => {
    const res = await req("/api/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "healthy", auth: "token" });
  });
});

describe("login", () => {
  it("sets an HttpOnly SameSite=Strict cookie holding no token, which then opens the API", async () => {
    const res = await login(JSON.stringify({ token: TOKEN }), "application/json");
    expect(res.status).toBe(204);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(";")[0]!;
    expect((await req("/api/pipelines", { headers: { cookie: session } })).status).toBe(200);
    const page = await req("/login", { headers: { cookie: session } });
    expect(page.status).toBe(200);
  });

  it("refuses a wrong token: 401 JSON for scripts, back to the form for browsers", async () => {
    const res = await login(JSON.stringify({ token: "nope" }), "application/json");
    expect(res.status).toBe(401);
    expect((await res.json()) as object).toHaveProperty("error");
    expect(res.headers.get("set-cookie")).toBeNull();
    const form = await login("token=nope&next=%2Fmetrics", "application/x-www-form-urlencoded");
    expect(form.status).toBe(303);
    expect(form.headers.get("location")).toBe("/login?error=invalid&next=%2Fmetrics");
  });

  it("sends a form login on to its next page, never to another site", async () => {
    const ok = await login(`token=${TOKEN}&next=%2Fmetrics`, "application/x-www-form-urlencoded");
    expect(ok.status).toBe(303);
    expect(ok.headers.get("location")).toBe("/metrics");
    expect(ok.headers.get("set-cookie")).toMatch(/pipewatch_session=/);
    const evil = await login(`token=${TOKEN}&next=%2F%2Fevil.example`, "application/x-www-form-urlencoded");
    expect(evil.headers.get("location")).toBe("/");
  });

  it("answers 400 to a malformed JSON body", async () => {
    expect((await login("{oops", "application/json")).status).toBe(400);
  });

  it("logout clears the cookie", async () => {
    const res = await req("/api/auth/logout", { method: "POST" });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });
});

describe("pages", () => {
  it("redirect to /login with the page to return to", async () => {
    const res = await req("/pipelines/abc?x=1");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe(`/login?next=${encodeURIComponent("/pipelines/abc?x=1")}`);
    expect((await req("/")).headers.get("location")).toBe("/login?next=%2F");
  });

  it("render the login form without a session", async () => {
    const res = await req("/login?next=%2F");
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('action="/api/auth/login"');
    expect(html).toMatch(/<label[^>]*for="token"/);
  });
});

describe("socket handshake", () => {
  it("is refused without the token or with a wrong one", async () => {
    await expect(connectClient(server.url)).rejects.toThrow(/unauthorized/);
    await expect(connectClient(server.url, { token: "wrong" })).rejects.toThrow(/unauthorized/);
  });

  it("is accepted with the token or the session cookie", async () => {
    const withToken = await connectClient(server.url, { token: TOKEN });
    sockets.push(withToken);
    expect(withToken.connected).toBe(true);
    const res = await login(JSON.stringify({ token: TOKEN }), "application/json");
    const session = res.headers.get("set-cookie")!.split(";")[0]!;
    const withCookie = await connectClient(server.url, { headers: { cookie: session } });
    sockets.push(withCookie);
    expect(withCookie.connected).toBe(true);
  });
});
