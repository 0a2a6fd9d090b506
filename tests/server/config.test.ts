import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../server/config";

describe("readConfig", () => {
  it("has the contract's defaults", () => {
    expect(readConfig({})).toMatchObject({ port: 3000, host: "127.0.0.1", redisUrl: null, redisPrefix: "pipewatch:", dashboardToken: null, demo: true, retentionDays: 30 });
    expect(readConfig({ REDIS_URL: "redis://127.0.0.1:6379/2" }).demo).toBe(false);
    expect(readConfig({ REDIS_URL: "redis://127.0.0.1:6379/2", DEMO: "1" }).demo).toBe(true);
    expect(readConfig({ DEMO: "0" }).demo).toBe(false);
  });

  it("refuses a non-loopback HOST without a token unless DASHBOARD_AUTH=none", () => {
    expect(() => readConfig({ HOST: "0.0.0.0" })).toThrow(ConfigError);
    expect(() => readConfig({ HOST: "0.0.0.0" })).toThrow(/DASHBOARD_TOKEN/);
    expect(readConfig({ HOST: "0.0.0.0", DASHBOARD_TOKEN: "t" }).host).toBe("0.0.0.0");
    expect(readConfig({ HOST: "0.0.0.0", DASHBOARD_AUTH: "none" }).authDisabled).toBe(true);
    expect(readConfig({ HOST: "::1" }).host).toBe("::1");
  });

  it("rejects malformed values", () => {
    expect(() => readConfig({ PORT: "abc" })).toThrow(/PORT/);
    expect(() => readConfig({ REDIS_URL: "http://x" })).toThrow(/REDIS_URL/);
    expect(() => readConfig({ RETENTION_DAYS: "-1" })).toThrow(/RETENTION_DAYS/);
  });

  it("makes the server exit 1 with a clear message on a non-loopback HOST without a token", () => {
    const res = spawnSync(process.execPath, ["--import", "tsx", "server/index.ts"], {
      env: { ...process.env, HOST: "0.0.0.0", PORT: "0", DASHBOARD_TOKEN: "", DASHBOARD_AUTH: "" },
      encoding: "utf8",
      timeout: 15_000,
    });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/Refusing to listen on 0\.0\.0\.0 without DASHBOARD_TOKEN/);
  });
});
