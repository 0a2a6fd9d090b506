import type { Metadata } from "next";
import { WorkersView } from "@/components/workers/workers-view";
import { definitionsOf, listStoredWorkers, serializeWorker } from "@/lib/workers/json";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Workers" };

export default async function WorkersPage() {
  const workers = await listStoredWorkers(getRuntime().tracking.storage);
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-xl font-semibold tracking-tight">Workers</h1>
        <p className="text-sm text-subtle">Processes that heartbeat into this dashboard&apos;s storage, updated live.</p>
      </div>
      <WorkersView initialWorkers={workers.map(serializeWorker)} initialDefinitions={definitionsOf(workers)} />
    </div>
  );
}
