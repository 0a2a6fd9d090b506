"use client";
/**
 * One Socket.IO connection per tab, shared through context. Auth rides on the session cookie
 * (same origin), so `auth` stays empty. `connectCount` grows on every (re)connect: pages resync
 * from the API then, because events sent while the socket was down are lost for good.
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { usePathname } from "next/navigation";
import { io, type Socket } from "socket.io-client";
import { SOCKET_PATH, type ClientToServerEvents, type ServerToClientEvents } from "@/lib/events";

export type PipewatchSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type ConnectionState = "live" | "reconnecting" | "offline";

interface SocketContextValue {
  socket: PipewatchSocket | null;
  state: ConnectionState;
  connectCount: number;
}

const SocketContext = createContext<SocketContextValue>({ socket: null, state: "offline", connectCount: 0 });

const MAX_RETRY_MS = 5_000;

export function SocketProvider({ children }: { children: ReactNode }) {
  const [socket, setSocket] = useState<PipewatchSocket | null>(null);
  const [state, setState] = useState<ConnectionState>("offline");
  const [connectCount, setConnectCount] = useState(0);
  // The login page has no session yet: a refused handshake there would only retry in vain.
  const enabled = !(usePathname() ?? "").startsWith("/login");

  useEffect(() => {
    if (!enabled) return;
    // WebSocket first (one connection, no long-polling requests to fail noisily on a server kick);
    // long-polling stays as the fallback where WebSockets are blocked.
    const s: PipewatchSocket = io({ path: SOCKET_PATH, auth: {}, withCredentials: true, transports: ["websocket", "polling"], tryAllTransports: true });
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let retries = 0;
    // The client only retries by itself after transport failures; a server-side kick or a
    // refused handshake leaves it idle, so we retry those with a capped backoff.
    const retryManually = () => {
      clearTimeout(retryTimer);
      const delay = Math.min(MAX_RETRY_MS, 500 * 2 ** retries++);
      retryTimer = setTimeout(() => {
        if (!s.connected) s.connect();
      }, delay);
    };
    const offlineOr = (fallback: ConnectionState): ConnectionState => (navigator.onLine ? fallback : "offline");

    s.on("connect", () => {
      retries = 0;
      setState("live");
      setConnectCount((n) => n + 1);
    });
    s.on("disconnect", (reason) => {
      setState(offlineOr("reconnecting"));
      if (reason === "io server disconnect") retryManually();
    });
    s.on("connect_error", () => {
      setState(offlineOr("reconnecting"));
      if (!s.active) retryManually();
    });
    const onOnline = () => {
      if (!s.connected) {
        setState("reconnecting");
        s.connect();
      }
    };
    const onOffline = () => setState("offline");
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    // The socket is created in the browser only (never during server render), so it enters state here.
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setSocket(s);
    return () => {
      clearTimeout(retryTimer);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      s.removeAllListeners();
      s.disconnect();
      setSocket(null);
    };
  }, [enabled]);

  return <SocketContext.Provider value={{ socket, state, connectCount }}>{children}</SocketContext.Provider>;
}

export function useSocket(): SocketContextValue {
  return useContext(SocketContext);
}
