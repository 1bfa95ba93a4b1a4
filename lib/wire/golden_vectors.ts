/**
 * Checks conformance vectors (the JSONL format of the reference vectors)
 * against the codec. Pure: callers read the files.
 *
 * Each line is one vector: `name`, `kind` (`wire_frame`, `rpc_payload`,
 * `framed_stream`), `expect` (`accept`/`reject`), `canonical`, `hex`,
 * `value` (wire JSON, present exactly when accepted), `note`, and optionally
 * `strict_may_reject: true`.
 *
 * @module
 */

import {
  decodeRpcPayload,
  decodeWireFrame,
  encodeRpcPayload,
  encodeWireFrame,
} from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { encodeLengthPrefixedFrame, FrameDecoder } from "./frame.ts";
import { MAX_MESSAGE_BYTES } from "./limits.ts";
import type { RpcPayload, WireFrame } from "./types.ts";
import {
  bytesToHex,
  fromWireJson,
  hexToBytes,
  type JsonValue,
  toWireJson,
} from "./wire_json.ts";

/** One parsed vector. */
export interface Vector {
  /** Unique within the file. */
  name: string;
  /** Which decoder applies: one frame, one payload, or a framed stream. */
  kind: "wire_frame" | "rpc_payload" | "framed_stream";
  /** Whether a conforming decoder accepts `hex`. */
  expect: "accept" | "reject";
  /** True when encoding `value` must give exactly `hex`. */
  canonical: boolean;
  /** The input bytes, lowercase hex. */
  hex: string;
  /** The decoded value as wire JSON (accepted vectors only). */
  value?: JsonValue;
  /** A short description. */
  note: string;
  /** A stricter decoder may reject this accepted input. */
  strict_may_reject?: true;
}

/** A line that could not be turned into a {@link Vector}. */
export interface VectorParseError {
  /** The vector's name if it had one, else `line N`. */
  name: string;
  /** What is wrong with it. */
  reason: string;
}

/** The parsed contents of a vectors file. */
export interface VectorsFile {
  /** The well-formed vectors, in file order. */
  vectors: Vector[];
  /** One entry per malformed line. */
  errors: VectorParseError[];
}

const FIELDS = new Set([
  "name",
  "kind",
  "expect",
  "canonical",
  "hex",
  "value",
  "note",
  "strict_may_reject",
]);

/**
 * Parses a JSONL vectors file, checking each line's shape.
 *
 * @param text The file's contents.
 * @returns The well-formed vectors and one error per malformed line.
 *
 * @example
 * ```ts
 * import { parseVectors } from "./golden_vectors.ts";
 * const line = JSON.stringify({
 *   name: "cancel", kind: "rpc_payload", expect: "accept", canonical: true,
 *   hex: "a164747970656663616e63656c", value: { type: "cancel" }, note: "unit variant",
 * });
 * const { vectors, errors } = parseVectors(line + "\n");
 * console.assert(vectors.length === 1 && errors.length === 0);
 * ```
 */
export function parseVectors(text: string): VectorsFile {
  const vectors: Vector[] = [];
  const errors: VectorParseError[] = [];
  const names = new Set<string>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      errors.push({ name: `line ${i + 1}`, reason: "not valid JSON" });
      continue;
    }
    const name = typeof (raw as { name?: unknown })?.name === "string"
      ? (raw as { name: string }).name
      : `line ${i + 1}`;
    const problem = shapeProblem(raw);
    if (problem !== undefined) {
      errors.push({ name, reason: problem });
      continue;
    }
    if (names.has(name)) {
      errors.push({ name, reason: "duplicate vector name" });
      continue;
    }
    names.add(name);
    vectors.push(raw as Vector);
  }
  return { vectors, errors };
}

function shapeProblem(raw: unknown): string | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return "line is not a JSON object";
  }
  const v = raw as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!FIELDS.has(key)) return `unexpected field ${JSON.stringify(key)}`;
  }
  if (typeof v.name !== "string" || v.name === "") return "bad name";
  if (
    v.kind !== "wire_frame" && v.kind !== "rpc_payload" &&
    v.kind !== "framed_stream"
  ) return "bad kind";
  if (v.expect !== "accept" && v.expect !== "reject") return "bad expect";
  if (typeof v.canonical !== "boolean") return "bad canonical";
  if (typeof v.hex !== "string" || !/^([0-9a-f]{2})*$/.test(v.hex)) {
    return "bad hex";
  }
  if (typeof v.note !== "string" || v.note === "") return "bad note";
  if ((v.expect === "accept") !== ("value" in v)) {
    return "value must be present exactly when expect is accept";
  }
  if (v.expect === "reject" && v.canonical) {
    return "a reject cannot be canonical";
  }
  if (
    "strict_may_reject" in v &&
    (v.strict_may_reject !== true || v.expect !== "accept" || v.canonical)
  ) return "strict_may_reject only on accepted non-canonical vectors";
  if (v.kind === "framed_stream" && "value" in v && !Array.isArray(v.value)) {
    return "framed_stream value must be an array";
  }
  return undefined;
}

/**
 * Checks one vector against the codec.
 *
 * - accept: decoding `hex` succeeds and gives `value` (key order included);
 *   with `strict_may_reject` a `ProtocolError` is also a pass;
 * - canonical: encoding `value` gives `hex` exactly;
 * - reject: decoding throws a `ProtocolError`.
 *
 * @param vector The vector.
 * @returns `undefined` on success, else the reason it failed.
 *
 * @example
 * ```ts
 * import { checkVector } from "./golden_vectors.ts";
 * const failure = checkVector({
 *   name: "trailing", kind: "rpc_payload", expect: "reject", canonical: false,
 *   hex: "a164747970656663616e63656c00", note: "one trailing byte",
 * });
 * console.assert(failure === undefined);
 * ```
 */
export function checkVector(vector: Vector): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(vector.hex);
  } catch {
    return "bad hex";
  }
  let decoded: JsonValue;
  try {
    decoded = decodeAsJson(vector.kind, bytes);
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      return `decoder threw a non-ProtocolError: ${describe(err)}`;
    }
    if (vector.expect === "reject") return undefined;
    if (vector.strict_may_reject && !vector.canonical) return undefined;
    return `expected accept, decoder threw ${err.code}: ${err.message}`;
  }
  if (vector.expect === "reject") {
    return `expected reject, decoder accepted: ${JSON.stringify(decoded)}`;
  }
  const want = JSON.stringify(vector.value);
  const got = JSON.stringify(decoded);
  if (want !== got) return `decoded value differs: got ${got}`;
  if (vector.canonical) {
    let encoded: string;
    try {
      encoded = encodeFromJson(vector.kind, vector.value!);
    } catch (err) {
      return `encoder threw: ${describe(err)}`;
    }
    if (encoded !== vector.hex) return `encoding differs: got ${encoded}`;
  }
  return undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function decodeAsJson(kind: Vector["kind"], bytes: Uint8Array): JsonValue {
  if (kind === "wire_frame") return toWireJson(decodeWireFrame(bytes));
  if (kind === "rpc_payload") return toWireJson(decodeRpcPayload(bytes));
  const decoder = new FrameDecoder({ maxFrameLen: MAX_MESSAGE_BYTES });
  decoder.push(bytes);
  const frames: JsonValue[] = [];
  for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
    frames.push(toWireJson(decodeWireFrame(f)));
  }
  decoder.end();
  return frames;
}

function encodeFromJson(kind: Vector["kind"], value: JsonValue): string {
  if (kind === "wire_frame") {
    return bytesToHex(encodeWireFrame(fromWireJson(value) as WireFrame));
  }
  if (kind === "rpc_payload") {
    return bytesToHex(encodeRpcPayload(fromWireJson(value) as RpcPayload));
  }
  let out = "";
  for (const frame of value as JsonValue[]) {
    out += bytesToHex(
      encodeLengthPrefixedFrame(fromWireJson(frame) as WireFrame),
    );
  }
  return out;
}

/** The outcome of checking a whole file. */
export interface VectorsReport {
  /** Vectors that passed. */
  passed: number;
  /** One entry per failed vector or malformed line. */
  failures: VectorParseError[];
}

/**
 * Parses and checks a whole vectors file.
 *
 * @param text The file's contents.
 * @returns Pass count and failures (malformed lines count as failures).
 *
 * @example
 * ```ts
 * import { checkVectorsText } from "./golden_vectors.ts";
 * const report = checkVectorsText('{"name":"x","kind":"wire_frame","expect":"reject","canonical":false,"hex":"","note":"empty"}\n');
 * console.assert(report.passed === 1 && report.failures.length === 0);
 * ```
 */
export function checkVectorsText(text: string): VectorsReport {
  const { vectors, errors } = parseVectors(text);
  const failures = [...errors];
  let passed = 0;
  for (const vector of vectors) {
    const reason = checkVector(vector);
    if (reason === undefined) passed++;
    else failures.push({ name: vector.name, reason });
  }
  return { passed, failures };
}
