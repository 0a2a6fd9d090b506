"use client";
/**
 * The workers list, kept live: joins the workers room (again after every reconnect: rooms do not
 * survive one), whose `workers:update` carries the whole list, first on joining and then whenever
 * it changed. The definitions are refetched when the set of online workers changes, since only
 * those say what can run.
 */
import { useEffect, useRef, useState } from "react";
import type { DefinitionJSON, WorkerJSON } from "@/lib/workers/json";
import { fetchJson } from "../api/api-client";
import { useSocket } from "../shell/socket-provider";

const onlineKey = (workers: readonly WorkerJSON[]): string =>
  workers
    .filter((w) => w.status === "online")
    .map((w) => w.workerId)
    .join("\n");

export function useLiveWorkers(initialWorkers: WorkerJSON[], initialDefinitions: DefinitionJSON[]) {
  const [workers, setWorkers] = useState(initialWorkers);
  const [definitions, setDefinitions] = useState(initialDefinitions);
  const { socket } = useSocket();

  useEffect(() => {
    if (!socket) return;
    const onUpdate = ({ items }: { items: WorkerJSON[] }) => setWorkers(items);
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

  const online = onlineKey(workers);
  const fetchedFor = useRef(onlineKey(initialWorkers));
  useEffect(() => {
    if (fetchedFor.current === online) return;
    fetchedFor.current = online;
    let current = true;
    fetchJson<{ items: DefinitionJSON[] }>("/api/definitions").then(
      ({ items }) => current && setDefinitions(items),
      () => {
        // Kept as they were; the next change of the online set fetches again.
      },
    );
    return () => {
      current = false;
    };
  }, [online]);

  return { workers, definitions };
}
