export * from "./split.ts";
export * from "./plain_cbor.ts";
export * from "./arbitraries.ts";
export * from "./memory_pair.ts";
export * from "./fake_clock.ts";

// The `./wire` message types and session classes that the signatures above
// use: re-exported so that an importer of this subpath alone can name them.
export type * from "../wire/types.ts";
export type { JsonValue } from "../wire/wire_json.ts";
export {
  ERROR_CODES,
  type ErrorCode,
  ProtocolError,
  type ProtocolErrorOptions,
} from "../wire/errors.ts";
export type {
  Admission,
  RouterSessionOptions,
  SessionEvent,
  SessionOptions,
  SessionRole,
  WorkerHelloInit,
  WorkerSessionOptions,
} from "../wire/session_options.ts";
export { SESSION_STATES, type SessionState } from "../wire/session.ts";
export type { Compressor } from "../wire/compression.ts";
export { Session } from "../wire/session_core.ts";
export { WorkerSession } from "../wire/session_worker.ts";
export { RouterSession } from "../wire/session_router.ts";
