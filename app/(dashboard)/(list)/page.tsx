import type { Metadata } from "next";
import { PipelineList } from "@/components/list/pipeline-list";
import { ParamError } from "@/components/ui/param-error";
import { checkQuery, correctedQuery, listPageQuerySchema } from "@/server/params";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Pipelines" };

const FIRST_PAGE = 100;

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function PipelinesPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const checked = checkQuery(listPageQuerySchema, params);
  if (!checked.ok) {
    const query = correctedQuery(listPageQuerySchema, params, checked.issues).toString();
    return <ParamError issues={checked.issues} correctedHref={query ? `/?${query}` : "/"} />;
  }
  const status = checked.value.status ?? null;
  const q = checked.value.q ?? "";
  const { tracking } = getRuntime();
  const [page, counts] = await Promise.all([
    tracking.listPage({ status: status ?? undefined, q: q || undefined, limit: FIRST_PAGE }),
    tracking.countByStatus(),
  ]);
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-xl font-semibold tracking-tight">Pipeline runs</h1>
        <p className="text-sm text-subtle">Every tracked run, newest first, updating live.</p>
      </div>
      <PipelineList initial={{ items: page.items, nextCursor: page.nextCursor, counts }} status={status} q={q} />
    </div>
  );
}
