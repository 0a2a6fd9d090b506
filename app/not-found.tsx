import Link from "next/link";
import { DashboardFrame } from "@/components/shell/dashboard-frame";

/** Unknown URLs render in the root layout only, outside the (dashboard) group: bring its frame along. */
export default function NotFound() {
  return (
    <DashboardFrame>
      <div className="mx-auto max-w-lg py-20 text-center" data-testid="not-found">
        <p className="text-sm font-semibold text-accent">404</p>
        <h1 className="mt-2 text-2xl font-semibold tracking-tight">Not found</h1>
        <p className="mt-2 text-subtle">There is no such page or pipeline run. It may have been deleted, or removed by retention.</p>
        <Link href="/" className="btn mt-6">
          ← Back to all runs
        </Link>
      </div>
    </DashboardFrame>
  );
}
