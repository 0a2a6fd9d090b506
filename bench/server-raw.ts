/**
 * The same-run baseline for the server benchmark: a bare node:http server in its own process
 * answering every request with one fixed JSON body (the real route's bytes, sent by the parent
 * over IPC) — what this machine gives an HTTP server that does no work at all right now.
 * Prints `{"url": ...}` once listening; each IPC message `{ body }` replaces the body.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

let body = Buffer.from("{}");
process.on("message", (m: { body: string }) => {
  body = Buffer.from(m.body);
  process.send?.({ ok: true });
});
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length, "cache-control": "no-store" });
  res.end(body);
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
