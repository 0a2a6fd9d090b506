/** The server benchmark's HTTP part: autocannon on a route, next to a bare node:http server on the same bytes and the route's storage calls alone. */
import type { ChildProcess } from "node:child_process";
import autocannon from "autocannon";
import { within } from "./server-spawn";

export const HTTP_SECONDS = Number(process.env.BENCH_SERVER_HTTP_SECONDS ?? 10);

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
export const ms = (v: number) => `${v.toFixed(1)} ms`;

/** bull-board's job list on this machine (figure given with the issue; not runnable offline). */
export const BULL_BOARD_REQ_PER_S = 480;

interface HttpRow {
  label: string;
  reqPerS: number;
  p50: number;
  p99: number;
  bytes: number;
  non2xx: number;
}

async function measureHttp(label: string, url: string, headers: Record<string, string> = {}): Promise<HttpRow> {
  // Bytes on the wire: content-length (fetch would hand back the decompressed body).
  const res = await fetch(url, { headers: { "accept-encoding": "identity", ...headers }, signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  const bytes = Number(res.headers.get("content-length"));
  const result = await autocannon({ url, connections: 10, duration: HTTP_SECONDS, headers });
  return { label, reqPerS: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bytes, non2xx: result.non2xx };
}

/** The route's own storage calls with 10 in flight, in this process, for as long as autocannon runs. */
async function measureStorage(call: () => Promise<string>): Promise<{ perS: number; p50: number; p99: number }> {
  const latencies: number[] = [];
  const end = performance.now() + HTTP_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { perS: latencies.length / HTTP_SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Ours, the bare server on the same bytes, and the storage alone, for one route. */
export async function compareRoute(
  hostUrl: string,
  path: string,
  raw: ChildProcess,
  rawUrl: string,
  storageCall: () => Promise<string>,
  withGzip = false,
): Promise<string[]> {
  const body = await (await fetch(`${hostUrl}${path}`)).text();
  await within(
    new Promise<void>((resolve) => {
      raw.once("message", () => resolve());
      raw.send({ body });
    }),
    10_000,
    "the bare server to take the body",
  );
  const ours = await measureHttp(`GET ${path}`, `${hostUrl}${path}`);
  const gzip = withGzip
    ? await measureHttp(`GET ${path}, Accept-Encoding: gzip`, `${hostUrl}${path}`, { "accept-encoding": "gzip" })
    : null;
  const bare = await measureHttp("bare node:http, same bytes", rawUrl);
  const storage = await measureStorage(storageCall);
  const row = (r: HttpRow, vs: string) =>
    `| ${r.label} | ${Math.round(r.reqPerS)} | ${r.p50} ms | ${r.p99} ms | ${r.bytes} | ${r.non2xx} | ${vs} |`;
  return [
    row(
      ours,
      `${((ours.reqPerS / bare.reqPerS) * 100).toFixed(0)} % of bare · ${(ours.reqPerS / BULL_BOARD_REQ_PER_S).toFixed(1)}× bull-board`,
    ),
    ...(gzip ? [row(gzip, `gzip level 1 · ${((gzip.reqPerS / ours.reqPerS) * 100).toFixed(0)} % of identity`)] : []),
    row(bare, ""),
    `| storage calls alone, in-process | ${Math.round(storage.perS)} | ${ms(storage.p50)} | ${ms(storage.p99)} | | | ours = ${((ours.reqPerS / storage.perS) * 100).toFixed(0)} % of it |`,
  ];
}
