"use client";
/** Calls `resync` after every socket (re)connect: what changed while disconnected is fetched anew. */
import { useEffect, useRef } from "react";
import { useSocket } from "../shell/socket-provider";

export function useResync(resync: () => void): void {
  const { connectCount } = useSocket();
  const latest = useRef(resync);
  useEffect(() => {
    latest.current = resync;
  });
  useEffect(() => {
    // The first connect resyncs too: the server render may predate it by a few events.
    if (connectCount > 0) latest.current();
  }, [connectCount]);
}
