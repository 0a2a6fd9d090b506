import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { PipelineDetail } from "@/components/run/pipeline-detail";
import { ParamError } from "@/components/ui/param-error";
import { serializeStatus } from "@/lib/tracking/models";
import { checkPipelineId } from "@/server/params";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";

type Params = Promise<{ id: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const checked = checkPipelineId((await params).id);
  return { title: checked.ok ? checked.value.slice(0, 80) : "Invalid run id" };
}

export default async function PipelinePage({ params }: { params: Params }) {
  const checked = checkPipelineId((await params).id);
  // No id is "meant" instead of a malformed one: the way back is the list of runs.
  if (!checked.ok) return <ParamError issues={checked.issues} correctedHref="/" />;
  const status = await getRuntime().tracking.getStatus(checked.value);
  if (!status) notFound();
  return <PipelineDetail initial={serializeStatus(status)} />;
}
