/**
 * Opens Socket.IO connections to a server from a process of its own (so the benchmark's health
 * sampler does not share an event loop with 2 000 handshakes), `atOnce` at a time; prints
 * `{ connected, refused, seconds }` once every attempt has settled and keeps the sockets open
 * until SIGTERM.  Usage: node --import tsx bench/socket-flood.ts <url> <count> <atOnce>
 */
import { io as connect, type Socket } from "socket.io-client";

const [url = "http://127.0.0.1:3000", count = "2000", atOnce = "50"] = process.argv.slice(2);
const sockets: Socket[] = [];
const started = performance.now();
let connected = 0;
let refused = 0;
for (let i = 0; i < Number(count); i += Number(atOnce)) {
  await Promise.all(
    Array.from(
      { length: Math.min(Number(atOnce), Number(count) - i) },
      () =>
        new Promise<void>((resolve) => {
          const socket = connect(url, { path: "/socket.io", transports: ["websocket"], reconnection: false, forceNew: true });
          sockets.push(socket);
          socket.once("connect", () => void (connected++, resolve()));
          socket.once("connect_error", () => void (refused++, socket.close(), resolve()));
        }),
    ),
  );
}
process.stdout.write(`${JSON.stringify({ connected, refused, seconds: (performance.now() - started) / 1000 })}\n`);
process.on("SIGTERM", () => {
  for (const socket of sockets) socket.close();
  process.exit(0);
});
