/**
 * The README's "Library tour" cannot rot: every ```ts block under `## Library tour` is type-checked
 * (strict, like the project) and executed, and each `console.log(...); // expected` comment must
 * match a line the block printed. Blocks import "./lib" as a user in the repository root would.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";
import { TEST_REDIS_URL } from "../test-redis-url";

const ROOT = join(import.meta.dirname, "..", "..");
// Under node_modules so the blocks resolve the project's packages; ignored by git, tsc and eslint.
const WORK = join(ROOT, "node_modules", ".cache", `readme-tour-${process.pid}`);

function tourBlocks(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = readme.search(/^## Library tour\s*$/m);
  if (start < 0) return [];
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]!);
}

/** "./lib" → the absolute entry, so the block runs from the scratch directory. */
const localize = (code: string) => code.replace(/from "\.\/lib"/g, `from ${JSON.stringify(join(ROOT, "lib", "index.ts"))}`);

/** The `// …` comments after console.log calls: what the block says it prints. */
function expectedOutputs(code: string): string[] {
  return code
    .split("\n")
    .filter((l) => /^\s*console\.log\(/.test(l))
    .map((l) => /\);\s*\/\/ (.+)$/.exec(l)?.[1]?.trim())
    .filter((x): x is string => Boolean(x));
}

const blocks = tourBlocks();
const needsRedis = (code: string) => code.includes("RedisPipelineStorage(");

/** `npm test` always has a Redis; without one a Redis block fails with this message rather than being skipped. */
async function redisProblem(): Promise<string | null> {
  const url = TEST_REDIS_URL;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on("error", () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return `README tour blocks need a Redis at ${url} (set TEST_REDIS_URL): ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    redis.disconnect();
  }
}

describe("README Library tour", () => {
  afterAll(() => rmSync(WORK, { recursive: true, force: true }));

  it("has ts blocks under '## Library tour'", () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it("type-checks every block under the project's strict settings", () => {
    mkdirSync(WORK, { recursive: true });
    const files = blocks.map((code, i) => {
      const file = join(WORK, `block-${i}.mts`);
      writeFileSync(file, `${localize(code)}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
      allowImportingTsExtensions: true,
      types: ["node"],
      typeRoots: [join(ROOT, "node_modules", "@types")],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(d.file.fileName));
    const messages = diagnostics.map(
      (d) => `${d.file!.fileName.split("/").pop()}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`,
    );
    expect(messages).toEqual([]);
  }, 60_000);

  it.each(blocks.map((code, i) => [i, code] as const))(
    "runs block %i and prints what its comments say",
    async (i, code) => {
      if (needsRedis(code)) expect(await redisProblem()).toBeNull();
      mkdirSync(WORK, { recursive: true });
      const file = join(WORK, `run-${i}.mts`);
      writeFileSync(file, `${localize(code)}\nexport {};\n`);
      const res = spawnSync(process.execPath, ["--import", "tsx", file], {
        cwd: ROOT,
        encoding: "utf8",
        timeout: 15_000,
        env: { ...process.env, TEST_REDIS_URL, LOG_LEVEL: "silent" },
      });
      expect(res.stderr, "stderr").not.toMatch(/Error/);
      expect(res.status, res.stderr).toBe(0);
      const lines = res.stdout.split("\n").map((l) => l.trim());
      for (const expected of expectedOutputs(code)) expect(lines, `block ${i} prints ${expected}`).toContain(expected);
    },
    60_000,
  );
});
