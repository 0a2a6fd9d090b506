/**
 * The typed Socket.IO event maps (docs/events.md), shared by the server and the browser. No event
 * name is written as a bare string anywhere else.
 */
import type { PipelineSummary, StepStatusJSON } from "./tracking/models";
import type { DefinitionJSON, WorkerJSON } from "./workers/json";

export interface ServerToClientEvents {
  /** The latest summary of a pipeline, on every change of it or one of its steps. */
  "pipeline:update": (summary: PipelineSummary) => void;
  /** A step of a pipeline the client subscribed to, with its result. */
  "step:update": (payload: { pipelineId: string; step: StepStatusJSON }) => void;
  /** A pipeline was deleted (by the API or by retention). */
  "pipeline:delete": (payload: { pipelineId: string }) => void;
  /**
   * Every listed worker (as GET /api/workers) and what the online ones can run (as GET
   * /api/definitions), to members of the workers room: on joining, then whenever either changed.
   */
  "workers:update": (payload: { items: WorkerJSON[]; definitions: DefinitionJSON[] }) => void;
}

export interface ClientToServerEvents {
  /** Joins the pipeline's room; `ack`, when sent, answers true once joined (false: refused). */
  subscribe: (payload: { pipelineId: string }, ack?: (ok: boolean) => void) => void;
  /** Leaves the pipeline's room; `ack`, when sent, answers true once left (false: refused). */
  unsubscribe: (payload: { pipelineId: string }, ack?: (ok: boolean) => void) => void;
  /** Joins the workers room (`workers:update`); `ack`, when sent, answers true once joined. */
  "workers:subscribe": (ack?: (ok: boolean) => void) => void;
  /** Leaves the workers room; `ack`, when sent, answers true once left. */
  "workers:unsubscribe": (ack?: (ok: boolean) => void) => void;
}

export const SOCKET_PATH = "/socket.io";
