/**
 * Inputs and outputs of distributed steps travel through Redis as JSON text. They are bounded
 * (`maxPayloadBytes`): what is too large or cannot be written as JSON fails with an error saying so.
 * `undefined` travels as the empty string.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PayloadError";
  }
}

export function encodePayload(value: unknown, what: string, maxBytes: number): string {
  if (value === undefined) return "";
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new PayloadError(`${what} cannot be serialised as JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (text === undefined) throw new PayloadError(`${what} cannot be serialised as JSON (a ${typeof value})`);
  // UTF-8 length without encoding unless it could be over: a string's bytes are at most 3 × its length.
  const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text);
  if (bytes > maxBytes) throw new PayloadError(`${what} is ${bytes} bytes of JSON, over maxPayloadBytes (${maxBytes})`);
  return text;
}

export function decodePayload(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === "") return undefined;
  return JSON.parse(text);
}
