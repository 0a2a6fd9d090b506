/** Setup shared by the REST API test files: the real server with memory storage, and a small client for it. */
import { expect } from "vitest";
import { runQuickPipeline, startTestServer, type TestServer } from "./helpers";

/** The server, seeded with one completed run ("etl-api") and one failed run ("flaky-api"). */
export async function startApiServer(): Promise<{ server: TestServer; completedId: string; failedId: string }> {
  const server = await startTestServer();
  const completedId = await runQuickPipeline(server.broker, server.tracking, "etl-api");
  const failedId = await runQuickPipeline(server.broker, server.tracking, "flaky-api", true);
  return { server, completedId, failedId };
}

/** `get` fetches a path of the server; `json` also checks that the reply is JSON and parses it. */
export function apiClient(baseUrl: () => string) {
  const get = (path: string, init?: RequestInit) => fetch(`${baseUrl()}${path}`, init);
  async function json(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await get(path, init);
    expect(res.headers.get("content-type")).toContain("application/json");
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }
  return { get, json };
}
