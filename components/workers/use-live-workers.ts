"use client";
/**
 * The workers list and the definitions, kept live: joins the workers room (again after every
 * reconnect: rooms do not survive one), whose `workers:update` carries both whole, first on
 * joining and then whenever either changed. Joining after a reconnect is the resync.
 */
import { useEffect, useState } from "react";
import type { DefinitionJSON, WorkerJSON } from "@/lib/workers/json";
import { useSocket } from "../shell/socket-provider";

export function useLiveWorkers(initialWorkers: WorkerJSON[], initialDefinitions: DefinitionJSON[]) {
  const [state, setState] = useState({ workers: initialWorkers, definitions: initialDefinitions });
  const { socket } = useSocket();

  useEffect(() => {
    if (!socket) return;
    const onUpdate = ({ items, definitions }: { items: WorkerJSON[]; definitions: DefinitionJSON[] }) =>
      setState({ workers: items, definitions });
    const join = () => socket.emit("workers:subscribe");
    socket.on("workers:update", onUpdate);
    socket.on("connect", join);
    if (socket.connected) join();
    return () => {
      socket.off("workers:update", onUpdate);
      socket.off("connect", join);
      if (socket.connected) socket.emit("workers:unsubscribe");
    };
  }, [socket]);

  return state;
}
