/**
 * The storage's backend cannot be reached right now (Redis down or reconnecting). Reads fail fast
 * with it instead of waiting on a dead connection, so a server can answer 503 at once.
 */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StorageUnavailableError";
  }
}
