/** The server's resource limits, each set from the environment in config.ts (docs/operations.md). */
import { DEFAULT_SESSION_MAX_AGE_S } from "./auth";

export interface ServerLimits {
  /** Larger request bodies answer 413, on every route, pages included. */
  maxBodyBytes: number;
  /** Socket.IO connections open at once, in total. */
  maxSockets: number;
  /** Socket.IO connections open at once from one client address. */
  maxSocketsPerIp: number;
  /** Oldest login session accepted, in seconds. */
  sessionMaxAgeS: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 1024 * 1024,
  maxSockets: 2_000,
  maxSocketsPerIp: 100,
  sessionMaxAgeS: DEFAULT_SESSION_MAX_AGE_S,
};

/** The peer's address as the socket sees it; a proxy in front makes every client the proxy. */
export function clientAddress(socket: { remoteAddress?: string }): string {
  return socket.remoteAddress ?? "unknown";
}
