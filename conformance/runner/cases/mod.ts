/**
 * Every conformance case, in report order.
 *
 * @module
 */

import type { CaseDef } from "../case.ts";
import { AUTH_CASES, HANDSHAKE_CASES } from "./handshake.ts";
import { CHUNK_CASES, ID_CASES, LIMIT_CASES, ZSTD_CASES } from "./wire.ts";
import { SESSION_CASES } from "./session.ts";
import { CORPUS_CASES } from "./corpus.ts";
import { TLS_CASES } from "./tls.ts";
import {
  CACHE_CASES,
  CANCEL_CASES,
  LIFECYCLE_CASES,
  SEMANTIC_CASES,
} from "./worker.ts";

/**
 * All cases.
 *
 * @example
 * ```ts
 * import { ALL_CASES } from "./mod.ts";
 * console.assert(ALL_CASES.length >= 60);
 * ```
 */
export const ALL_CASES: readonly CaseDef[] = Object.freeze([
  ...HANDSHAKE_CASES,
  ...AUTH_CASES,
  ...TLS_CASES,
  ...ID_CASES,
  ...LIMIT_CASES,
  ...CHUNK_CASES,
  ...ZSTD_CASES,
  ...CANCEL_CASES,
  ...SEMANTIC_CASES,
  ...CORPUS_CASES,
  ...CACHE_CASES,
  ...LIFECYCLE_CASES,
  ...SESSION_CASES,
]);
