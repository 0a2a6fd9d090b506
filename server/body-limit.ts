/**
 * MAX_BODY_BYTES on every route, pages included, before anything reads the body: a declared
 * Content-Length over the limit is refused at once; a chunked body is counted as Node's parser hands
 * it over and refused the moment it passes the limit. The refusal is a 413 JSON answer on a
 * connection that then stops reading (paused, so the client's unsent bytes stay on its side) and is
 * dropped shortly after, once the client has had time to read the answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** How long a refused connection stays open (not reading) so the client can read the 413. */
const LINGER_MS = 1_000;

/** True when the request may go on; otherwise a 413 has been (or will be) sent. */
export function passBodyLimit(req: IncomingMessage, res: ServerResponse, maxBytes: number): boolean {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) {
    refuse(req, res, maxBytes);
    return false;
  }
  if (req.headers["transfer-encoding"] === undefined) return true;
  // The parser feeds the body through push(); counting there needs no listener of our own, which
  // would put the stream in flowing mode before the route that reads it is ready.
  let seen = 0;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (chunk === null || seen > maxBytes) return seen > maxBytes ? false : push(chunk, encoding);
    seen += (chunk as Buffer).length;
    if (seen <= maxBytes) return push(chunk, encoding);
    refuse(req, res, maxBytes);
    return false;
  };
  return true;
}

function refuse(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  const socket = req.socket;
  socket.pause();
  const drop = () => setTimeout(() => socket.destroy(), LINGER_MS).unref();
  if (res.headersSent) return void socket.destroy();
  const body = JSON.stringify({ error: `Request body too large: the limit is ${maxBytes} bytes (MAX_BODY_BYTES)` });
  res.writeHead(413, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    connection: "close",
  });
  res.end(body, drop);
}
