/**
 * MAX_BODY_BYTES on every route, pages included, before anything reads the body. A declared
 * Content-Length over the limit is refused at once. A chunked body (no length announced) is held
 * back until it has ended, and the request only then goes on to its route: a page answers before
 * reading any body, so a route that ran first could not be refused afterwards. It is counted as
 * Node's parser hands it over and refused the moment it passes the limit. The refusal is a 413
 * JSON answer on a connection that stops reading (paused, so the client's unsent bytes stay on its
 * side) and is dropped shortly after, once the client has had time to read the answer.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** How long a refused connection stays open (not reading) so the client can read the 413. */
const LINGER_MS = 1_000;

/**
 * Calls `proceed` once the request may go on (at once when it declares its length); otherwise a
 * 413 has been sent and `proceed` is never called.
 */
export function gateBodySize(req: IncomingMessage, res: ServerResponse, maxBytes: number, proceed: () => void): void {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) return refuse(req, res, maxBytes);
  if (declared !== undefined || req.headers["transfer-encoding"] === undefined) return proceed();
  // The parser feeds the body through push(); holding it there needs no listener of our own, which
  // would put the stream in flowing mode before the route that reads it is ready.
  const held: Buffer[] = [];
  let seen = 0;
  let refused = false;
  const push = req.push.bind(req);
  req.push = (chunk: unknown, encoding?: BufferEncoding) => {
    if (refused) return false;
    if (chunk !== null) {
      seen += (chunk as Buffer).length;
      if (seen > maxBytes) {
        refused = true;
        held.length = 0;
        refuse(req, res, maxBytes);
        return false;
      }
      held.push(chunk as Buffer);
      return true;
    }
    req.push = push;
    for (const part of held) push(part, encoding);
    const ended = push(null);
    // Out of the parser's callback: the route may answer (and the parser move on) right away.
    process.nextTick(proceed);
    return ended;
  };
}

function refuse(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  const socket = req.socket;
  socket.pause();
  if (res.headersSent) return void socket.destroy();
  const body = JSON.stringify({ error: `Request body too large: the limit is ${maxBytes} bytes (MAX_BODY_BYTES)` });
  res.writeHead(413, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    connection: "close",
  });
  res.end(body, () => setTimeout(() => socket.destroy(), LINGER_MS).unref());
}
