/**
 * Make any step result storable as JSON without throwing: BigInt, Date, Map, Set, typed arrays,
 * Errors, functions, symbols and circular references all get a faithful JSON form, and a result
 * larger than `maxBytes` is replaced by `{ truncated: true, bytes, preview }`.
 *
 * The copy is deep-frozen: the manager hands the same result to the storage, to every listener
 * and to readers, so nobody can change what the others (or the store) see by mutating it.
 */
import { types } from "node:util";

export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;
const PREVIEW_CHARS = 1024;

export interface TruncatedResult {
  truncated: true;
  /** Size of the full JSON form in UTF-8 bytes. */
  bytes: number;
  /** The first characters of the full JSON form. */
  preview: string;
}

export function toJsonSafe(value: unknown, maxBytes = DEFAULT_MAX_RESULT_BYTES): unknown {
  // Fast path for the common small primitives: no walk, no stringify.
  switch (typeof value) {
    case "undefined":
      return null;
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "string":
      return value.length * 3 <= maxBytes ? value : limitSize(value, maxBytes);
    default:
      break;
  }
  if (value === null) return null;
  let safe: unknown;
  try {
    safe = limitSize(convert(value, new WeakSet()), maxBytes);
  } catch {
    // convert catches what user code throws; this is the last line for anything it missed.
    return `[Unserializable ${typeof value}]`;
  }
  if (typeof safe === "object" && safe !== null) made.add(safe);
  return safe;
}

/** The (frozen) objects toJsonSafe made, so a storage can keep them without another copy. */
const made = new WeakSet<object>();

/**
 * True when `value` can be stored as it is: a JSON primitive, or a copy made by `toJsonSafe`
 * (deep-frozen). Anything else needs `toJsonSafe` first.
 */
export function isStorableAsIs(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      return value === null || made.has(value);
    default:
      return false;
  }
}

function limitSize(safe: unknown, maxBytes: number): unknown {
  const json = JSON.stringify(safe) ?? "null";
  // A UTF-8 character is at most 3 bytes per UTF-16 unit, so short strings skip the exact count.
  if (json.length * 3 <= maxBytes) return safe;
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes <= maxBytes) return safe;
  const truncated: TruncatedResult = { truncated: true, bytes, preview: json.slice(0, PREVIEW_CHARS) };
  return Object.freeze(truncated);
}

function convert(value: unknown, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case "undefined":
      return null;
    case "boolean":
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "symbol":
      return value.toString();
    case "function":
      return `[Function ${functionName(value as (...args: never[]) => unknown)}]`;
    default:
      break;
  }
  if (value === null) return null;
  const obj = value as object;
  if (seen.has(obj)) return "[Circular]";
  seen.add(obj);
  // Every read of a user object may run user code (getters, iterators, toJSON, Proxy traps) that
  // throws: whatever throws becomes a marker for that value alone, never an error for the caller.
  try {
    return convertObject(obj, seen);
  } catch {
    return unserializable(obj);
  } finally {
    // Only ancestors count as circular; the same object twice side by side is fine.
    seen.delete(obj);
  }
}

function convertObject(obj: object, seen: WeakSet<object>): unknown {
  if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
  if (obj instanceof Error) return Object.freeze({ name: obj.name, message: obj.message });
  if (obj instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of obj) setKey(out, typeof k === "string" ? k : String(convert(k, seen)), convert(v, seen));
    return Object.freeze(out);
  }
  if (obj instanceof Set) return Object.freeze(Array.from(obj, (v) => convert(v, seen)));
  if (ArrayBuffer.isView(obj)) {
    return obj instanceof DataView
      ? `[DataView ${obj.byteLength} bytes]`
      : Object.freeze(Array.from(obj as unknown as ArrayLike<number | bigint>, (v) => convert(v, seen)));
  }
  if (Array.isArray(obj)) {
    // Index by index, so one throwing element getter spoils that element only.
    const out: unknown[] = [];
    for (let i = 0; i < obj.length; i++) out.push(readAndConvert(obj, i, seen) ?? null);
    return Object.freeze(out);
  }
  const toJSON = (obj as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") return convert(toJSON.call(obj), seen);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    const v = readAndConvert(obj, key, seen);
    if (v !== undefined) setKey(out, key, v);
  }
  return Object.freeze(out);
}

/** One property, converted; undefined for an undefined one (left out like JSON does), a marker if reading it throws. */
function readAndConvert(obj: object, key: string | number, seen: WeakSet<object>): unknown {
  let v: unknown;
  try {
    v = (obj as Record<string | number, unknown>)[key];
  } catch {
    return "[Unserializable property]";
  }
  return typeof v === "undefined" ? undefined : convert(v, seen);
}

/** defineProperty keeps a "__proto__" key an ordinary own property instead of a prototype swap. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

function unserializable(obj: object): string {
  return `[Unserializable ${typeName(obj)}]`;
}

/** The constructor's name, else the built-in tag; reading either may throw (a revoked Proxy). */
function typeName(obj: object): string {
  try {
    const name = (obj as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === "string" && name) return name;
  } catch {
    // fall through to the tag
  }
  try {
    return Object.prototype.toString.call(obj).slice(8, -1);
  } catch {
    return types.isProxy(obj) ? "Proxy" : "Object";
  }
}

function functionName(fn: (...args: never[]) => unknown): string {
  try {
    return typeof fn.name === "string" && fn.name ? fn.name : "anonymous";
  } catch {
    return "anonymous";
  }
}

/** The message a thrown value gives, whatever was thrown. */
export function errorMessage(err: unknown): string {
  if (typeof err === "string") return err;
  // JSON would say "null" for `throw undefined`; the literal is what the user wrote.
  if (err === undefined) return "undefined";
  try {
    if (err instanceof Error) return err.message ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : err.name;
    const json = JSON.stringify(toJsonSafe(err, 2000));
    return json === undefined ? String(err) : json;
  } catch {
    // A thrown Proxy or an Error whose getters throw.
    return typeof err === "object" && err !== null ? unserializable(err) : "[Unserializable error]";
  }
}
