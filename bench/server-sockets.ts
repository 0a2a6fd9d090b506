/** The server benchmark's socket clients: timed socket.io clients, bare frame-counting ones, and delivery latencies. */
import { io as connect, type Socket } from "socket.io-client";
import { WebSocket } from "ws";
import type { ClientToServerEvents, ServerToClientEvents } from "../lib/events";

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function connectClient(url: string): Promise<Client> {
  const socket: Client = connect(url, { path: "/socket.io", transports: ["websocket"], reconnection: false, forceNew: true });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/**
 * A bare Engine.IO/Socket.IO v4 websocket client that counts `pipeline:update` frames without
 * decoding them, so 450 of the 500 fan-out clients cost the load generator (same 2 cores as the
 * server) almost nothing; the server does the same work for them as for a browser.
 */
export function connectCountingClient(url: string): Promise<{ count: () => number; close: () => void }> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  let frames = 0;
  return new Promise((resolve, reject) => {
    ws.on("error", reject);
    ws.on("message", (data: Buffer) => {
      if (data[0] === 0x34 && data[1] === 0x32)
        frames++; // "42": an event
      else if (data[0] === 0x32 && data.length === 1)
        ws.send("3"); // ping → pong
      else if (data[0] === 0x30)
        ws.send("40"); // open → connect to "/"
      else if (data[0] === 0x34 && data[1] === 0x30) resolve({ count: () => frames, close: () => ws.close() }); // "40": connected
    });
  });
}

/** Waits until no new arrival has been recorded for `quietMs` (the clients have drained). */
export async function drained(maps: Map<string, number>[], quietMs = 1_000, maxMs = 15_000): Promise<void> {
  const total = () => maps.reduce((n, m) => n + m.size, 0);
  const deadline = performance.now() + maxMs;
  let last = -1;
  while (performance.now() < deadline) {
    const n = total();
    if (n === last) return;
    last = n;
    await sleep(quietMs);
  }
}

export function recordArrivals(socket: Client): Map<string, number> {
  const arrivals = new Map<string, number>();
  socket.on("pipeline:update", (s) => {
    const key = `${s.pipelineId}:${s.stepsCompleted}`;
    if (!arrivals.has(key)) arrivals.set(key, now());
  });
  return arrivals;
}

export function latencies(finished: Map<string, number>, arrivals: Map<string, number>): { values: number[]; missing: number } {
  const values: number[] = [];
  let missing = 0;
  for (const [key, at] of finished) {
    const arrived = arrivals.get(key);
    if (arrived === undefined) missing++;
    else values.push(arrived - at);
  }
  return { values, missing };
}
