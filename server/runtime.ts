/**
 * The one process-wide handle. The custom server builds the runtime once (tracking manager,
 * storage, Socket.IO) and registers it here; Next's separately bundled server components (the
 * pages) reach it through `getRuntime()`. The REST API does not need it: it runs in the server
 * process itself and is handed its dependencies. A module-level variable would be two different
 * objects in the two bundles, so the handle lives on `globalThis` under a registered symbol.
 */
import type { PipelineTrackingManager } from "pipewatch";

export interface Runtime {
  tracking: PipelineTrackingManager;
  /** "memory" or "redis". */
  storageKind: string;
  startedAt: Date;
  /** Set when DASHBOARD_TOKEN is configured. */
  dashboardToken: string | null;
}

const KEY = Symbol.for("pipewatch.runtime");
type Holder = { [KEY]?: Runtime };

export function setRuntime(runtime: Runtime | undefined): void {
  (globalThis as Holder)[KEY] = runtime;
}

export function getRuntime(): Runtime {
  const runtime = (globalThis as Holder)[KEY];
  if (!runtime) throw new Error("Pipewatch runtime is not initialised: start the app with the custom server (npm start)");
  return runtime;
}
