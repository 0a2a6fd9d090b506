// Bundles the custom server (server/index.ts and the lib/ it imports) into dist/server.js.
// Next compiles app/ itself; node_modules stay external so both worlds load the same packages.
import { build } from "esbuild";

await build({
  entryPoints: ["server/index.ts", "bin/status.ts"],
  outdir: "dist",
  outbase: ".",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
});
