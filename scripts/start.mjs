#!/usr/bin/env node
// `npm start`: the production server. Builds first when there is no build (a fresh clone), then
// runs the bundled custom server in this process, so signals reach it directly.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const SERVER = "dist/server/index.js";

if (!existsSync(".next/BUILD_ID") || !existsSync(SERVER)) {
  console.log("pipewatch: no build found, running `npm run build` first…");
  const build = spawnSync("npm", ["run", "build"], { stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
  if (build.status !== 0) {
    console.error("pipewatch: the build failed");
    process.exit(build.status ?? 1);
  }
}

process.env.NODE_ENV = "production";
await import(new URL(`../${SERVER}`, import.meta.url).href);
