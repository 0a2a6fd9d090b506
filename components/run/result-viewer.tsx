"use client";
/**
 * A step's result as JSON text, built only when expanded and capped, so a large result never
 * freezes the tab. Results stored truncated (`{ truncated, bytes, preview }`) say so with their size.
 */
import { formatBytes } from "../ui/duration-format";

const MAX_CHARS = 20_000;

interface TruncatedResult {
  truncated: true;
  bytes: number;
  preview: string;
}

function isTruncated(value: unknown): value is TruncatedResult {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.truncated === true && typeof v.bytes === "number" && typeof v.preview === "string";
}

function toText(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

export function ResultViewer({ result }: { result: unknown }) {
  const truncated = isTruncated(result);
  const text = truncated ? result.preview : toText(result);
  const shown = text.length > MAX_CHARS ? text.slice(0, MAX_CHARS) : text;
  return (
    <div className="space-y-2" data-testid="result-viewer">
      {truncated && (
        <p className="text-xs text-warning" data-testid="result-truncated">
          Result truncated when stored: {formatBytes(result.bytes)} ({result.bytes.toLocaleString()} bytes). Showing its beginning.
        </p>
      )}
      {text.length > MAX_CHARS && (
        <p className="text-xs text-subtle">
          Showing the first {MAX_CHARS.toLocaleString()} of {text.length.toLocaleString()} characters; export the run for all of it.
        </p>
      )}
      <pre className="max-h-80 overflow-auto rounded-md bg-zinc-950 p-3 font-mono text-xs leading-relaxed text-zinc-100">{shown}</pre>
    </div>
  );
}
