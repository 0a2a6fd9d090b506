"use client";
/**
 * One Socket.IO connection per tab, shared through context. Auth rides on the session cookie
 * (same origin), so `auth` stays empty. `connectCount` grows on every (re)connect: pages resync
 * from the API then, because events sent while the socket was down are lost for good.
 *
 * The context carries a store that never changes; components read the connection from it with
 * useSyncExternalStore. A changing context value would reach server-rendered content that has not
 * hydrated yet: React then gives up hydrating a streamed boundary still waiting for its reveal and
 * renders it afresh, while the server's copy stays in the page (hidden) until React's reveal script
 * runs, so for a moment every run on the list was two rows (e2e/streamed-list.spec.ts).
 */
import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
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

interface SocketStore {
  get(): SocketContextValue;
  subscribe(listener: () => void): () => void;
  set(change: Partial<SocketContextValue>): void;
}

const NOT_CONNECTED: SocketContextValue = { socket: null, state: "offline", connectCount: 0 };

function createSocketStore(): SocketStore {
  let value = NOT_CONNECTED;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(change) {
      value = { ...value, ...change };
      for (const listener of listeners) listener();
    },
  };
}

const SocketContext = createContext<SocketStore>(createSocketStore());

const MAX_RETRY_MS = 5_000;

export function SocketProvider({ children }: { children: ReactNode }) {
  const [store] = useState(createSocketStore);
  // The login page has no session yet: a refused handshake there would only retry in vain.
  const enabled = !(usePathname() ?? "").startsWith("/login");

  useEffect(() => {
    if (!enabled) return;
    // WebSocket first (one connection, no long-polling requests to fail noisily on a server kick);
    // long-polling stays as the fallback where WebSockets are blocked.
    const s: PipewatchSocket = io({
      path: SOCKET_PATH,
      auth: {},
      withCredentials: true,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
    });
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
      store.set({ state: "live", connectCount: store.get().connectCount + 1 });
    });
    s.on("disconnect", (reason) => {
      store.set({ state: offlineOr("reconnecting") });
      if (reason === "io server disconnect") retryManually();
    });
    s.on("connect_error", () => {
      store.set({ state: offlineOr("reconnecting") });
      if (!s.active) retryManually();
    });
    const onOnline = () => {
      if (!s.connected) {
        store.set({ state: "reconnecting" });
        s.connect();
      }
    };
    const onOffline = () => store.set({ state: "offline" });
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    store.set({ socket: s });
    return () => {
      clearTimeout(retryTimer);
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      s.removeAllListeners();
      s.disconnect();
      store.set({ socket: null });
    };
  }, [enabled, store]);

  return <SocketContext.Provider value={store}>{children}</SocketContext.Provider>;
}

const notConnected = () => NOT_CONNECTED;

/** The connection as it stands; the server render and hydration see it not connected yet. */
export function useSocket(): SocketContextValue {
  const store = useContext(SocketContext);
  return useSyncExternalStore(store.subscribe, store.get, notConnected);
}
