/**
 * First-load JS per dashboard page, gzipped, read from the production build in `.next`: the
 * root main chunks every page loads, plus every chunk the page's client-reference manifest lists
 * for its entries (layout, page, error/not-found boundaries). Polyfills (nomodule, skipped by
 * modern browsers) are not counted. Budget: 200 KB gzipped per page. Needs `npm run build`.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { writeUiSection } from "./ui-results";

const NEXT_DIR = ".next";
const BUDGET_KB = 200;
const PAGES: Record<string, string> = {
  "/": "(dashboard)/(list)",
  "/pipelines/[id]": "(dashboard)/pipelines/[id]",
  "/metrics": "(dashboard)/metrics",
};

interface ClientManifest {
  entryJSFiles?: Record<string, string[]>;
}

function pageManifest(segment: string): ClientManifest {
  const file = join(NEXT_DIR, "server", "app", segment, "page_client-reference-manifest.js");
  const sandbox = { globalThis: {} as { __RSC_MANIFEST?: Record<string, ClientManifest> } };
  runInNewContext(readFileSync(file, "utf8"), sandbox);
  const manifests = Object.values(sandbox.globalThis.__RSC_MANIFEST ?? {});
  if (!manifests[0]) throw new Error(`no client manifest in ${file}`);
  return manifests[0];
}

function sizeOf(chunk: string): { raw: number; gzip: number } {
  const body = readFileSync(join(NEXT_DIR, chunk.replace(/^\/_next\//, "")));
  return { raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
}

const kb = (n: number) => (n / 1024).toFixed(1);

export async function run(): Promise<string> {
  if (!existsSync(join(NEXT_DIR, "build-manifest.json"))) {
    return "## ui\n\nNo production build in `.next`: run `npm run build` first.\n";
  }
  const build = JSON.parse(readFileSync(join(NEXT_DIR, "build-manifest.json"), "utf8")) as { rootMainFiles: string[] };
  const rows: string[] = [];
  let worst = 0;
  for (const [route, segment] of Object.entries(PAGES)) {
    const manifest = pageManifest(segment);
    const chunks = new Set<string>(build.rootMainFiles);
    for (const files of Object.values(manifest.entryJSFiles ?? {})) for (const f of files) chunks.add(f);
    let raw = 0;
    let gzip = 0;
    for (const chunk of chunks) {
      const s = sizeOf(chunk);
      raw += s.raw;
      gzip += s.gzip;
    }
    worst = Math.max(worst, gzip);
    rows.push(`| \`${route}\` | ${chunks.size} | ${kb(raw)} | ${kb(gzip)} | ${gzip / 1024 <= BUDGET_KB ? "✓" : "✗ over"} |`);
  }
  const chunkCount = readdirSync(join(NEXT_DIR, "static", "chunks")).filter((f) => f.endsWith(".js")).length;
  const section = [
    "## ui — first-load JS per page",
    "",
    `Measured from \`${relative(process.cwd(), NEXT_DIR) || NEXT_DIR}\` (${chunkCount} client chunks in the build): root main chunks + the page's entry chunks, gzip level 9. Budget ≤ ${BUDGET_KB} KB gzipped per page.`,
    "",
    "| page | chunks | raw KB | gzipped KB | budget |",
    "|---|---:|---:|---:|---|",
    ...rows,
    "",
    `Largest page: ${kb(worst)} KB gzipped (${((worst / 1024 / BUDGET_KB) * 100).toFixed(0)}% of the budget).`,
    "",
  ].join("\n");
  writeUiSection("bundle", section);
  return section;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
