import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, readConfig } from "../../server/config";

describe("readConfig", () => {
  it("has the documented defaults", () => {
    expect(readConfig({})).toMatchObject({
      port: 3000,
      host: "127.0.0.1",
      redis: null,
      dashboardToken: null,
      demo: true,
      retentionDays: 30,
    });
    expect(readConfig({ REDIS_URL: "redis://127.0.0.1:6379/2" }).demo).toBe(false);
    expect(readConfig({ REDIS_URL: "redis://127.0.0.1:6379/2", DEMO: "1" }).demo).toBe(true);
    expect(readConfig({ DEMO: "0" }).demo).toBe(false);
  });

  it("refuses a non-loopback HOST without a token unless DASHBOARD_AUTH=none", () => {
    expect(() => readConfig({ HOST: "0.0.0.0" })).toThrow(ConfigError);
    expect(() => readConfig({ HOST: "0.0.0.0" })).toThrow(/DASHBOARD_TOKEN/);
    expect(readConfig({ HOST: "0.0.0.0", DASHBOARD_TOKEN: "a-token-of-16-chr" }).host).toBe("0.0.0.0");
    expect(readConfig({ HOST: "0.0.0.0", DASHBOARD_AUTH: "none" }).authDisabled).toBe(true);
    expect(readConfig({ HOST: "::1" }).host).toBe("::1");
  });

  it("reads the limits, with the documented defaults", () => {
    expect(readConfig({}).limits).toEqual({ maxBodyBytes: 1_048_576, maxSockets: 2_000, maxSocketsPerIp: 100, sessionMaxAgeS: 86_400 });
    expect(readConfig({ MAX_BODY_BYTES: "65536", MAX_SOCKETS: "50", MAX_SOCKETS_PER_IP: "5", SESSION_MAX_AGE_S: "3600" }).limits).toEqual({
      maxBodyBytes: 65_536,
      maxSockets: 50,
      maxSocketsPerIp: 5,
      sessionMaxAgeS: 3_600,
    });
    expect(readConfig({ RETENTION_DAYS: "0.5" }).retentionDays).toBe(0.5);
    for (const [name, value] of [
      ["MAX_BODY_BYTES", "1mb"],
      ["MAX_BODY_BYTES", "10"],
      ["MAX_SOCKETS", "0"],
      ["MAX_SOCKETS_PER_IP", "-3"],
      ["MAX_SOCKETS_PER_IP", "1.5"],
      ["SESSION_MAX_AGE_S", "soon"],
      ["SESSION_MAX_AGE_S", "5"],
    ] as const) {
      expect(() => readConfig({ [name]: value }), `${name}=${value}`).toThrow(new RegExp(`^Invalid environment: ${name}`));
    }
  });

  it("reads REDIS_URL or REDIS_CLUSTER_NODES (which wins), with the prefix's default for each", () => {
    expect(readConfig({ REDIS_URL: "redis://127.0.0.1:6379/2" }).redis).toEqual({
      cluster: false,
      url: "redis://127.0.0.1:6379/2",
      prefix: "pipewatch:",
      describe: "redis://127.0.0.1:6379/2",
    });
    const cluster = readConfig({ REDIS_URL: "redis://127.0.0.1:6379", REDIS_CLUSTER_NODES: "10.0.0.5:7000, redis-b:7001" });
    expect(cluster.redis).toMatchObject({
      cluster: true,
      nodes: [
        { host: "10.0.0.5", port: 7000 },
        { host: "redis-b", port: 7001 },
      ],
      prefix: "{pipewatch}:",
    });
    expect(cluster.demo).toBe(false);
    expect(readConfig({ REDIS_CLUSTER_NODES: "10.0.0.5:7000", REDIS_PREFIX: "{acme}:pw:" }).redis?.prefix).toBe("{acme}:pw:");
    expect(() => readConfig({ REDIS_CLUSTER_NODES: "10.0.0.5" })).toThrow(
      /^Invalid environment: REDIS_CLUSTER_NODES: "10\.0\.0\.5" is not host:port/,
    );
    expect(() => readConfig({ REDIS_CLUSTER_NODES: "10.0.0.5:70000" })).toThrow(/REDIS_CLUSTER_NODES/);
    expect(() => readConfig({ REDIS_CLUSTER_NODES: "10.0.0.5:7000", REDIS_PREFIX: "pipewatch:" })).toThrow(
      /REDIS_PREFIX "pipewatch:" has no hash tag/,
    );
  });

  it("chooses SQLite at PIPEWATCH_DB without Redis, memory for :memory:, and checks the value", () => {
    expect(readConfig({}).storage).toEqual({ kind: "sqlite", path: resolve("data/pipewatch.db") });
    expect(readConfig({ PIPEWATCH_DB: "/var/lib/pipewatch/runs.db" }).storage).toEqual({
      kind: "sqlite",
      path: "/var/lib/pipewatch/runs.db",
    });
    expect(readConfig({ PIPEWATCH_DB: " runs.db " }).storage).toEqual({ kind: "sqlite", path: resolve("runs.db") });
    expect(readConfig({ PIPEWATCH_DB: ":memory:" })).toMatchObject({ storage: { kind: "memory" }, demo: true });
    expect(readConfig({ PIPEWATCH_DB: "runs.db", REDIS_URL: "redis://127.0.0.1:6379" })).toMatchObject({
      storage: { kind: "redis" },
      demo: false,
    });
    for (const [value, message] of [
      ["./data/", /PIPEWATCH_DB names a folder/],
      ["file:runs.db?mode=ro", /PIPEWATCH_DB must be a plain file path/],
      ["a\0b", /PIPEWATCH_DB must not contain a NUL byte/],
    ] as const) {
      expect(() => readConfig({ PIPEWATCH_DB: value }), value).toThrow(message);
    }
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
