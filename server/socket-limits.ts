/**
 * Caps on open Socket.IO connections (MAX_SOCKETS in total, MAX_SOCKETS_PER_IP per client address):
 * each socket costs ~100 KB and its share of every broadcast, so one client with thousands of
 * sockets slowed every request. A middleware, first in line, so the refused client's connect_error
 * names the limit it hit; the count is released when the underlying connection closes.
 */
import type { Socket } from "socket.io";
import { clientAddress } from "./limits";

export interface SocketCaps {
  maxSockets: number;
  maxSocketsPerIp: number;
}

type Next = (err?: Error) => void;

export function createSocketCap(caps: SocketCaps, onRefused: (address: string, reason: string) => void) {
  const perAddress = new Map<string, number>();
  let total = 0;

  const middleware = (socket: Socket, next: Next): void => {
    const address = clientAddress(socket.conn.request.socket);
    const mine = perAddress.get(address) ?? 0;
    let reason: string | null = null;
    if (total >= caps.maxSockets) reason = `too many connections to this server (MAX_SOCKETS=${caps.maxSockets})`;
    else if (mine >= caps.maxSocketsPerIp) reason = `too many connections from this address (MAX_SOCKETS_PER_IP=${caps.maxSocketsPerIp})`;
    if (reason) {
      onRefused(address, reason);
      return next(new Error(reason));
    }
    total++;
    perAddress.set(address, mine + 1);
    socket.conn.once("close", () => {
      total--;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    });
    next();
  };

  return {
    middleware,
    get total() {
      return total;
    },
  };
}
