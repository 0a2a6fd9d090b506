// `npm run pack`: builds the `pipewatch` package from lib/ into dist/pkg/ and packs it.
//   1. esbuild bundles the three entries (lib/index.ts, the storage battery, the CLI) into ESM with
//      shared chunks; dependencies stay imports, so the package carries only lib/'s own code.
//   2. tsc writes the .d.ts files; their relative imports get explicit `.js` extensions, which
//      `moduleResolution: nodenext` requires (`bundler` accepts both).
//   3. A package.json is generated from the root one: only the dependencies lib/ imports.
//   4. `npm pack` writes dist/pipewatch-<version>.tgz; its absolute path is the last line printed.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const OUT = join(ROOT, "dist", "pkg");
const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

/** What lib/ imports at run time; anything else in the root package.json belongs to the dashboard. */
const RUNTIME_DEPENDENCIES = ["ioredis", "croner", "pino", "zod"];
/** Loaded only by the parts that need them. */
const OPTIONAL_PEERS = { bullmq: "^6.7.0", "better-sqlite3": "^12.11.1", vitest: ">=4.1 <5" };

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });

await build({
  absWorkingDir: ROOT,
  entryPoints: { index: "lib/index.ts", testing: "lib/tracking/storage/contract.ts", cli: "lib/cli/pipewatch.ts" },
  outdir: OUT,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  logLevel: "warning",
});

execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.pkg.json"], {
  cwd: ROOT,
  stdio: "inherit",
});

function declarationFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? declarationFiles(path) : path.endsWith(".d.ts") ? [path] : [];
  });
}

/** "./models" → "./models.js", "./storage" (a folder) → "./storage/index.js". */
function withExtension(file, specifier) {
  const target = resolve(dirname(file), specifier);
  if (existsSync(`${target}.d.ts`)) return `${specifier}.js`;
  if (existsSync(join(target, "index.d.ts"))) return `${specifier}/index.js`;
  throw new Error(`${file}: cannot resolve ${specifier}`);
}

for (const file of declarationFiles(join(OUT, "types"))) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(/(from\s+|import\()(["'])(\.\.?\/[^"']*)\2/g, (_, head, quote, spec) =>
    spec.endsWith(".js") ? `${head}${quote}${spec}${quote}` : `${head}${quote}${withExtension(file, spec)}${quote}`,
  );
  if (fixed !== text) writeFileSync(file, fixed);
}

const pick = (names, from) => Object.fromEntries(names.map((name) => [name, from[name]]));
const missing = RUNTIME_DEPENDENCIES.filter((name) => !root.dependencies[name]);
if (missing.length) throw new Error(`package.json does not list ${missing.join(", ")}`);

const manifest = {
  name: "pipewatch",
  version: root.version,
  description: root.description,
  license: root.license ?? "UNLICENSED",
  type: "module",
  engines: root.engines,
  bin: { pipewatch: "./cli.js" },
  exports: {
    ".": { types: "./types/index.d.ts", default: "./index.js" },
    "./testing": { types: "./types/tracking/storage/contract.d.ts", default: "./testing.js" },
    "./package.json": "./package.json",
  },
  types: "./types/index.d.ts",
  files: ["index.js", "testing.js", "cli.js", "chunks", "types", "README.md"],
  dependencies: pick(RUNTIME_DEPENDENCIES, root.dependencies),
  peerDependencies: OPTIONAL_PEERS,
  peerDependenciesMeta: Object.fromEntries(Object.keys(OPTIONAL_PEERS).map((name) => [name, { optional: true }])),
};
writeFileSync(join(OUT, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
// The package's README is docs/package.md; links into the repository mean nothing on npm, so they become plain text.
const readme = readFileSync(join(ROOT, "docs", "package.md"), "utf8").replace(/\[([^\]]+)\]\((?!https?:|#)[^)]+\)/g, "$1");
writeFileSync(join(OUT, "README.md"), readme);

const packed = JSON.parse(
  execFileSync("npm", ["pack", "--json", "--pack-destination", join(ROOT, "dist")], {
    cwd: OUT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }),
);
const { filename, files, unpackedSize } = packed[0];
console.log(`pipewatch ${root.version}: ${files.length} files, ${(unpackedSize / 1024).toFixed(0)} KiB unpacked`);
console.log(join(ROOT, "dist", filename));
