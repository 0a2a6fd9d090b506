/** Writes held for one event-loop turn: corked once per turn, released after it, only websocket transports. */
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { createTurnWrites } from "../../server/turn-writes";

const client = (name: string, socket: Socket) => ({ conn: { transport: { name, socket: { _socket: socket } } } });

describe("createTurnWrites", () => {
  it("corks each websocket once per turn and uncorks after it", async () => {
    const ws = new Socket();
    const polling = new Socket();
    const gone = new Socket();
    gone.destroy();
    const writes = createTurnWrites({
      sockets: new Map([
        ["a", client("websocket", ws)],
        ["b", client("polling", polling)],
        ["c", client("websocket", gone)],
      ]),
    });
    writes.hold();
    writes.hold();
    expect(ws.writableCorked).toBe(1);
    expect(polling.writableCorked).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(ws.writableCorked).toBe(0);
    writes.hold();
    expect(ws.writableCorked).toBe(1);
    writes.release();
    expect(ws.writableCorked).toBe(0);
    ws.destroy();
    polling.destroy();
  });

  it("tolerates connections of another shape", () => {
    const writes = createTurnWrites({
      sockets: new Map([
        ["x", { conn: {} }],
        ["y", { conn: { transport: { name: "websocket" } } }],
      ]),
    });
    expect(() => {
      writes.hold();
      writes.release();
    }).not.toThrow();
  });

  it("recovers from a hold that threw half-way: the corked clients are released and later turns hold again", async () => {
    const ws = new Socket();
    const broken = {
      get conn(): unknown {
        throw new Error("torn down mid-iteration");
      },
    };
    const sockets = new Map<string, { conn: unknown }>([
      ["a", client("websocket", ws)],
      ["b", broken],
    ]);
    const writes = createTurnWrites({ sockets });
    expect(() => writes.hold()).toThrow(/torn down/);
    expect(ws.writableCorked).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(ws.writableCorked).toBe(0);
    sockets.delete("b");
    writes.hold();
    expect(ws.writableCorked).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(ws.writableCorked).toBe(0);
    ws.destroy();
  });
});
