/**
 * The server's limits answer with a clear refusal: the socket caps (set low here) refuse the extra
 * connection with a connect_error naming the limit while health still answers; a body over
 * MAX_BODY_BYTES gets 413 JSON on a page as on the API, without the server reading it (the client
 * is still sending when the answer arrives, and most of the 50 MB never leaves it).
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectClient, startTestServer, type ClientSocket, type TestServer } from "./helpers";

const MAX_BODY_BYTES = 64 * 1024;
const FIFTY_MB = 50 * 1024 * 1024;
let server: TestServer;
let capped: TestServer;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  [server, capped] = await Promise.all([
    startTestServer({ limits: { maxSockets: 100, maxSocketsPerIp: 3, maxBodyBytes: MAX_BODY_BYTES } }),
    startTestServer({ limits: { maxSockets: 2, maxSocketsPerIp: 100 } }),
  ]);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await Promise.all([server?.close(), capped?.close()]);
});

describe("socket caps", () => {
  it("refuses the connection over MAX_SOCKETS_PER_IP with an error naming it; health still answers; a closed socket frees its place", async () => {
    for (let i = 0; i < 3; i++) sockets.push(await connectClient(server.url));
    await expect(connectClient(server.url)).rejects.toThrow(/too many connections from this address \(MAX_SOCKETS_PER_IP=3\)/);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);

    const closed = new Promise<void>((resolve) => sockets[0]!.io.engine.once("close", () => resolve()));
    sockets.shift()!.close();
    await closed;
    await waitUntil(async () => {
      try {
        sockets.push(await connectClient(server.url));
        return true;
      } catch {
        return false;
      }
    });
  });

  it("refuses the connection over MAX_SOCKETS", async () => {
    for (let i = 0; i < 2; i++) sockets.push(await connectClient(capped.url));
    await expect(connectClient(capped.url)).rejects.toThrow(/too many connections to this server \(MAX_SOCKETS=2\)/);
    expect((await fetch(`${capped.url}/api/health`)).status).toBe(200);
  });
});

/** Sends `headers` then up to 50 MB of body; resolves with the answer's head and how much was sent by then. */
function oversizedPost(path: string, headers: string[]): Promise<{ head: string; sentBeforeAnswer: number; sentTotal: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(server.url);
    const socket: Socket = connect({ host: url.hostname, port: Number(url.port) });
    const chunk = Buffer.alloc(64 * 1024, "x");
    const chunked = headers.some((h) => /^transfer-encoding: chunked$/i.test(h));
    let sent = 0;
    let sentBeforeAnswer = -1;
    let answer = "";
    let stopped = false;
    const finish = () => {
      if (stopped) return;
      stopped = true;
      socket.destroy();
      resolve({ head: answer, sentBeforeAnswer, sentTotal: sent });
    };
    const pump = () => {
      while (!stopped && sent < FIFTY_MB) {
        const body = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk;
        sent += chunk.length;
        if (!socket.write(body)) return void socket.once("drain", pump);
      }
    };
    socket.on("connect", () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${headers.join("\r\n")}\r\n\r\n`);
      pump();
    });
    socket.on("data", (d: Buffer) => {
      if (sentBeforeAnswer < 0) sentBeforeAnswer = sent;
      answer += d.toString("latin1");
      if (answer.includes("\r\n\r\n") && answer.includes("}")) finish();
    });
    socket.on("error", (err) => (answer ? finish() : reject(err)));
    socket.on("close", finish);
  });
}

describe("request bodies over MAX_BODY_BYTES", () => {
  it.each([
    ["a page, declared Content-Length", "/", [`Content-Length: ${FIFTY_MB}`, "Content-Type: text/plain"]],
    ["a page, chunked", "/", ["Transfer-Encoding: chunked", "Content-Type: text/plain"]],
    ["an API route, chunked", "/api/auth/logout", ["Transfer-Encoding: chunked", "Content-Type: application/json"]],
  ])("answer 413 JSON without being read: %s", async (_, path, headers) => {
    const { head, sentBeforeAnswer, sentTotal } = await oversizedPost(path, headers);
    expect(head).toMatch(/^HTTP\/1\.1 413 /);
    expect(head).toMatch(/content-type: application\/json/i);
    expect(head).toMatch(/connection: close/i);
    expect(head).toMatch(
      /"error":"Request body too large: the limit is 65536 bytes \(MAX_BODY_BYTES\)"|"error":"body: larger than 16 KiB"/,
    );
    // The answer came while most of the body was still unsent, and most of it never went out.
    expect(sentBeforeAnswer).toBeLessThan(FIFTY_MB / 2);
    expect(sentTotal).toBeLessThan(FIFTY_MB / 2);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it("lets a body under the limit through, chunked or not, to the route that reads it", async () => {
    const res = await fetch(`${server.url}/api/auth/logout`, { method: "POST", body: "x".repeat(1_000) });
    expect(res.status).toBe(204);
    const chunked = (text: string) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of [text.slice(0, 5), text.slice(5)]) controller.enqueue(new TextEncoder().encode(part));
          controller.close();
        },
      });
    // The cancel route reads its body: malformed JSON sent in chunks still reaches it whole.
    const cancel = await fetch(`${server.url}/api/pipelines/no-such-run/cancel`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked('{"not json'),
      duplex: "half",
    } as RequestInit);
    expect(cancel.status).toBe(400);
    const page = await fetch(`${server.url}/`, { method: "POST", body: chunked("x".repeat(10_000)), duplex: "half" } as RequestInit);
    expect(page.status).toBeLessThan(500);
    await page.text();
  });
});

async function waitUntil(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20)); // re-check interval
  }
}
