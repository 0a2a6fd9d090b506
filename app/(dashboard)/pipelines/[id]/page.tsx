import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { PipelineDetail } from "@/components/run/pipeline-detail";
import { isValidPipelineId, serializeStatus } from "@/lib/tracking/models";
import { getRuntime } from "@/server/runtime";

export const dynamic = "force-dynamic";

type Params = Promise<{ id: string }>;

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id } = await params;
  return { title: decodeId(id).slice(0, 80) };
}

export default async function PipelinePage({ params }: { params: Params }) {
  const id = decodeId((await params).id);
  if (!isValidPipelineId(id)) notFound();
  const status = await getRuntime().tracking.getStatus(id);
  if (!status) notFound();
  return <PipelineDetail initial={serializeStatus(status)} />;
}
