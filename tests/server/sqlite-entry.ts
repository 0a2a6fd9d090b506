/**
 * Helpers for the production entry over SQLite files (sqlite-default and sqlite-live tests): temp
 * folders, reading every run through the API, another process recording into the same file, and
 * a start that must be refused.
 */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PipelineSummary, Status } from "../../lib/tracking/models";
import { ENTRY } from "./entry";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WRITER = fileURLToPath(new URL("./fixtures/sqlite-writer.ts", import.meta.url));

/** A fresh temp folder; `remove()` deletes it and everything in it. */
export function tempDir(label: string): { dir: string; file: (name: string) => string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `pipewatch-entry-${label}-`));
  return { dir, file: (name) => join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Listing {
  items: PipelineSummary[];
  counts: Record<Status, number>;
}

/** Every run the server lists (paged through `nextCursor`), with the counts of the first page. */
export async function listEverything(url: string): Promise<Listing> {
  const items: PipelineSummary[] = [];
  let cursor: string | null = null;
  let counts: Record<Status, number> | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = (await (await fetch(`${url}/api/pipelines?limit=500${query}`)).json()) as Listing & { nextCursor: string | null };
    counts ??= page.counts;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return { items, counts: counts! };
}

/** Resolves when `check` returns truthy, polling every 50 ms (never a fixed sleep). */
export async function until<T>(check: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Another process recording `count` two-step runs `<idPrefix>-<n>` into the file; resolves once it exited 0. */
export function runSqliteWriter(path: string, idPrefix: string, count: number, gapMs: number, children: ChildProcess[]): Promise<void> {
  // Node itself runs the script with tsx's loader, so a kill by this pid reaches the writer.
  const child = spawn(process.execPath, ["--import", "tsx", WRITER, path, idPrefix, String(count), String(gapMs)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`sqlite writer exited ${code}: ${stderr.slice(0, 500)}`))));
  });
}

/** Starts the entry expecting a refused start: its exit code and what it wrote to stderr. */
export async function startRefused(
  env: Record<string, string>,
  children: ChildProcess[],
  options: SpawnOptions = {},
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ENTRY], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", PORT: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
    ...options,
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stderr };
}
