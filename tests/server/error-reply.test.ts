/** The one error function: which failures are the client's (4xx), the storage's (503) or ours (500). */
import { MaxRetriesPerRequestError } from "ioredis/built/errors";
import { describe, expect, it } from "vitest";
import { StorageUnavailableError } from "../../lib";
import { ApiError, errorReply } from "../../server/api/respond";
import { silentLogger } from "./helpers";

const reply = (err: unknown) => errorReply(err, silentLogger, "req-1");

describe("errorReply", () => {
  it("answers 503 'Storage unavailable: …' for an unreachable storage, recognised by name or code", () => {
    const copy = Object.assign(new Error("redis is reconnecting"), { name: "StorageUnavailableError" }); // another bundle's class
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6380"), { code: "ECONNREFUSED" });
    for (const err of [
      new StorageUnavailableError("Redis is down"),
      copy,
      new MaxRetriesPerRequestError(1) as unknown as Error,
      refused,
      new Error("Connection is closed."),
    ]) {
      const r = reply(err);
      expect(r.status, err.message).toBe(503);
      expect((r.json as { error: string }).error).toBe(`Storage unavailable: ${err.message}`);
      expect(r.headers?.["retry-after"]).toBeDefined();
    }
  });

  it("keeps a client error's status and message, and hides anything else behind a 500", () => {
    expect(reply(new ApiError(409, "already finished"))).toMatchObject({ status: 409, json: { error: "already finished" } });
    expect(reply(Object.assign(new Error("bad"), { name: "InvalidCursorError" }))).toMatchObject({
      status: 400,
      json: { error: "cursor: bad" },
    });
    expect(reply(new TypeError("x is undefined"))).toMatchObject({ status: 500, json: { error: "Internal server error" } });
    expect(reply("a string")).toMatchObject({ status: 500 });
  });
});
