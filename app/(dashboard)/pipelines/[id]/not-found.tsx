import Link from "next/link";

export default function PipelineNotFound() {
  return (
    <div className="mx-auto max-w-lg py-20 text-center" data-testid="not-found">
      <p className="text-sm font-semibold text-accent">404</p>
      <h1 className="mt-2 text-2xl font-semibold tracking-tight">Pipeline run not found</h1>
      <p className="mt-2 text-subtle">
        No run with this id is stored. It may have been deleted, removed by retention, or the link is mistyped.
      </p>
      <Link href="/" className="btn mt-6">
        ← Back to all runs
      </Link>
    </div>
  );
}
