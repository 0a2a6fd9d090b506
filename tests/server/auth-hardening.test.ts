/**
 * Auth hardening: a blank or (off loopback) short DASHBOARD_TOKEN refuses to start, failed logins
 * are throttled per client address, and the server itself refuses a session past its age.
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionValue } from "../../server/auth";
import { ConfigError, readConfig } from "../../server/config";
import { LoginThrottle } from "../../server/login-throttle";
import { connectClient, startTestServer, type TestServer } from "./helpers";

const TOKEN = "hardening-token-0123456789";

function startEntry(env: Record<string, string>) {
  return spawnSync(process.execPath, ["--import", "tsx", "server/index.ts"], {
    env: { ...process.env, PORT: "0", DASHBOARD_AUTH: "", ...env },
    encoding: "utf8",
    timeout: 30_000, // tsx compiles the entry first: seconds on a busy machine
  });
}

describe("the token's strength", () => {
  it("refuses a whitespace-only token on any bind, and a short one off loopback", () => {
    expect(() => readConfig({ DASHBOARD_TOKEN: "   " })).toThrow(/only whitespace/);
    expect(() => readConfig({ HOST: "0.0.0.0", DASHBOARD_TOKEN: " \t " })).toThrow(ConfigError);
    expect(() => readConfig({ HOST: "0.0.0.0", DASHBOARD_TOKEN: "short-token" })).toThrow(/11 characters.*at least 16/);
    // Trimmed first: padding does not make a short token long enough.
    expect(() => readConfig({ HOST: "0.0.0.0", DASHBOARD_TOKEN: "  fifteen-chars!!  " })).toThrow(/15 characters/);
    expect(readConfig({ HOST: "0.0.0.0", DASHBOARD_TOKEN: " sixteen-chars-ok\n" }).dashboardToken).toBe("sixteen-chars-ok");
    expect(readConfig({ DASHBOARD_TOKEN: "short" }).dashboardToken).toBe("short");
    expect(readConfig({ HOST: "0.0.0.0", DASHBOARD_AUTH: "none" }).authDisabled).toBe(true);
  });

  it.each([
    ["a whitespace token", " ", /DASHBOARD_TOKEN is only whitespace/],
    ["a short token", "abc123", /Refusing to listen on 0\.0\.0\.0 with a DASHBOARD_TOKEN of 6 characters/],
  ])(
    "makes the server exit 1 on 0.0.0.0 with %s, saying why",
    (_, token, message) => {
      const res = startEntry({ HOST: "0.0.0.0", DASHBOARD_TOKEN: token });
      expect(res.status).toBe(1);
      expect(res.stderr).toMatch(message);
    },
    40_000,
  );

  it("never accepts a blank token at login", async () => {
    await expect(startTestServer({ dashboardToken: "  " })).rejects.toThrow(/whitespace/);
  });
});

describe("login throttling and session age", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ dashboardToken: TOKEN, limits: { sessionMaxAgeS: 120 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const login = (token: string) =>
    fetch(`${server.url}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });

  it("answers 429 with Retry-After to the 11th bad login in a minute, even with the right token", async () => {
    for (let i = 1; i <= 10; i++) expect((await login(`wrong-${i}`)).status, `attempt ${i}`).toBe(401);
    const refused = await login("wrong-11");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toContain("application/json");
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(((await refused.json()) as { error: string }).error).toMatch(/Too many failed logins/);
    expect((await login(TOKEN)).status).toBe(429);
    // Every other way of presenting a token is throttled too; a session and the open routes are not.
    const bearer = await fetch(`${server.url}/api/pipelines`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bearer.status).toBe(429);
    expect(Number(bearer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await expect(connectClient(server.url, { token: TOKEN })).rejects.toThrow(/too many failed logins/);
    expect((await fetch(`${server.url}/api/pipelines`, { headers: { cookie: `pipewatch_session=${sessionValue(TOKEN)}` } })).status).toBe(
      200,
    );
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it("counts wrong Bearer tokens and socket tokens as failed logins", async () => {
    const other = await startTestServer({ dashboardToken: TOKEN });
    try {
      for (let i = 1; i <= 5; i++) {
        expect((await fetch(`${other.url}/api/pipelines`, { headers: { authorization: `Bearer wrong-${i}` } })).status).toBe(401);
        await expect(connectClient(other.url, { token: `wrong-${i}` })).rejects.toThrow(/unauthorized/);
      }
      expect((await fetch(`${other.url}/api/pipelines`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(429);
    } finally {
      await other.close();
    }
  });

  it("refuses a session older than SESSION_MAX_AGE_S, on the API and the socket", async () => {
    const fresh = `pipewatch_session=${sessionValue(TOKEN)}`;
    const expired = `pipewatch_session=${sessionValue(TOKEN, Date.now() - 121_000)}`;
    const forged = `pipewatch_session=${Math.floor(Date.now() / 1000)}.${sessionValue(TOKEN, Date.now() - 121_000).split(".")[1]}`;
    expect((await fetch(`${server.url}/api/pipelines`, { headers: { cookie: fresh } })).status).toBe(200);
    expect((await fetch(`${server.url}/api/pipelines`, { headers: { cookie: expired } })).status).toBe(401);
    expect((await fetch(`${server.url}/api/pipelines`, { headers: { cookie: forged } })).status).toBe(401);
    const page = await fetch(`${server.url}/`, { headers: { cookie: expired }, redirect: "manual" });
    expect(page.status).toBe(302);
    await expect(connectClient(server.url, { headers: { cookie: expired } })).rejects.toThrow(/unauthorized/);
    (await connectClient(server.url, { headers: { cookie: fresh } })).close();
  });
});

describe("LoginThrottle", () => {
  it("slides its minute: one more try once the oldest failure is a minute old", () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle(10, () => now);
    for (let i = 0; i < 10; i++) {
      expect(throttle.retryAfterS("a")).toBe(0);
      throttle.fail("a");
      now += 1_000;
    }
    expect(throttle.retryAfterS("a")).toBe(50);
    expect(throttle.retryAfterS("b")).toBe(0);
    now += 50_000;
    expect(throttle.retryAfterS("a")).toBe(0);
    throttle.fail("a");
    expect(throttle.retryAfterS("a")).toBeGreaterThan(0);
  });
});
