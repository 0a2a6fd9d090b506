/**
 * Holds every websocket client's writes until the end of the current event-loop turn, so the
 * `pipeline:update`s broadcast in one turn (often a dozen under load: change-feed messages arrive
 * in batches) leave as one write per client instead of one syscall per client per event.
 * Socket.IO already encodes each broadcast once and pre-builds its websocket frame; what was left
 * per client was the write itself. Costs one turn (setImmediate) at most; nothing is reordered.
 */
import { Socket as NetSocket } from "node:net";

export interface TurnWrites {
  /** Call before emitting: corks every websocket client until the turn ends (once per turn). */
  hold(): void;
  /** Sends whatever is held now (shutdown). */
  release(): void;
}

/** `namespace`: a Socket.IO namespace (`io.sockets`); only its sockets' connections are read. */
export function createTurnWrites(namespace: { sockets: ReadonlyMap<string, { conn: unknown }> }): TurnWrites {
  let held: NetSocket[] | null = null;
  const release = (): void => {
    const sockets = held;
    held = null;
    for (const socket of sockets ?? []) {
      try {
        socket.uncork();
      } catch {
        // A socket that fails here is being torn down; the others must still go out.
      }
    }
  };
  return {
    hold() {
      if (held) return;
      const corked: NetSocket[] = [];
      held = corked;
      // Scheduled before anything can throw: a hold whose release never ran would leave `held`
      // set, every later hold a no-op and every corked client silent for the life of the process.
      setImmediate(release);
      for (const client of namespace.sockets.values()) {
        const socket = websocketOf(client.conn);
        if (!socket) continue;
        socket.cork();
        corked.push(socket);
      }
    },
    release,
  };
}

/**
 * The TCP socket under an Engine.IO websocket transport. It is not public API, so the shape is
 * checked and anything unexpected (polling, another ws version) is simply not corked.
 */
function websocketOf(conn: unknown): NetSocket | null {
  const transport = (conn as { transport?: { name?: unknown; socket?: { _socket?: unknown } } }).transport;
  const socket = transport?.name === "websocket" ? transport.socket?._socket : undefined;
  return socket instanceof NetSocket && !socket.destroyed ? socket : null;
}
