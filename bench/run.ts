/**
 * `npm run bench`: runs every benchmark in this process order and writes bench/results/latest-all.md.
 * Each module exports `run(): Promise<string>` returning its markdown section; targets and
 * baselines are measured in the same run (ratios, not absolute numbers from another day).
 * `npm run bench -- core redis` runs only those.
 */
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

const SUITES: Record<string, string> = {
  core: "./tracking-core.ts",
  redis: "./redis-storage.ts",
  sqlite: "./sqlite-storage.ts",
  leases: "./leases.ts",
  server: "./server-api.ts",
  "bull-board": "./bull-board-baseline.ts",
  ui: "./ui-bundle.ts",
  "ui-live": "./ui-live.ts",
  "ui-paint": "./ui-paint.ts",
  "ui-paint-sqlite": "./ui-paint-sqlite.ts",
  ops: "./server-ops.ts",
  distributed: "./distributed.ts",
};

const wanted = process.argv.slice(2).filter((a) => a in SUITES);
const names = wanted.length ? wanted : Object.keys(SUITES);
const sections: string[] = [];
for (const name of names) {
  const started = Date.now();
  console.log(`▶ bench ${name}`);
  try {
    const mod = (await import(SUITES[name]!)) as { run: () => Promise<string> };
    sections.push(await mod.run());
  } catch (err) {
    sections.push(`## ${name}\n\nFailed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const header = [
  "# Pipewatch benchmarks",
  "",
  `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.`,
  "Regenerate with `npm run bench` (a subset: `npm run bench -- core redis`).",
  "",
].join("\n");
// bench/results.md is the hand-kept summary of targets; a run's full output goes beside the per-area files.
const out = `bench/results/latest-${wanted.length ? names.join("-") : "all"}.md`;
writeFileSync(out, `${header}\n${sections.join("\n")}\n`);
console.log(`wrote ${out}`);
process.exit(0);
