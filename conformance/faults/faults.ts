/**
 * The catalogue of injected faults: each breaks exactly one rule, and names
 * the conformance case(s) meant to catch it. The fault proxy
 * (`fault_proxy.ts`) implements them; the catch test runs those cases
 * against the proxied worker and expects them to fail.
 *
 * @module
 */

/** One injected fault. */
export interface FaultDef {
  /** Name passed to `fault_proxy.ts --fault`. */
  name: string;
  /** The rule the faulty worker breaks. */
  breaks: string;
  /** Case ids that must fail against this fault. */
  caughtBy: string[];
  /**
   * How it is injected: by the relaying fault proxy around a real worker
   * (default), or by the standalone fixture worker's own `--fault` switch
   * (for faults a relay cannot express: cache handling, logging, env).
   */
  via?: "proxy" | "fixture";
}

/**
 * Every fault.
 *
 * @example
 * ```ts
 * import { FAULTS } from "./faults.ts";
 * console.assert(FAULTS.length >= 15 && FAULTS.every((f) => f.caughtBy.length > 0));
 * ```
 */
export const FAULTS: readonly FaultDef[] = Object.freeze([
  {
    name: "even_notification_id",
    breaks: "worker notifications use odd ids",
    caughtBy: ["cache.restart_sends_cached_index"],
  },
  {
    name: "no_chunking",
    breaks: "responses larger than max_frame_len are chunked",
    caughtBy: ["hs.small_max_frame_len_honoured"],
  },
  {
    name: "ignore_welcome_limits",
    breaks: "the Welcome's smaller max_frame_len is honoured",
    caughtBy: ["hs.small_max_frame_len_honoured"],
  },
  {
    name: "shift_symbol_column",
    breaks: "symbol columns are exact (UTF-16)",
    caughtBy: ["sem.symbols_worked_example"],
  },
  {
    name: "never_answer_stats",
    breaks: "GetWorkerStats is answered",
    caughtBy: ["sem.stats_initial"],
  },
  {
    name: "close_on_unknown_request",
    breaks: "an unknown request gets invalid_request, not a closed connection",
    caughtBy: ["sem.unknown_request_invalid_request"],
  },
  {
    name: "no_exit_on_shutdown",
    breaks: "Shutdown: reply, then exit 0 within 2 s",
    caughtBy: ["sem.shutdown_replies_and_exits_0"],
  },
  {
    name: "frame_before_welcome",
    breaks: "no frame between Hello and Welcome",
    caughtBy: ["hs.no_frames_before_welcome"],
  },
  {
    name: "wrong_response_id",
    breaks: "responses carry the request's id",
    caughtBy: ["ids.response_echoes_id"],
  },
  {
    name: "accept_odd_request_id",
    breaks: "an odd router request id closes the connection",
    caughtBy: ["ids.odd_request_id_closes"],
  },
  {
    name: "drop_cancelled_response",
    breaks: "a cancelled request is still answered",
    caughtBy: ["cancel.slow_index_shard_answered"],
  },
  {
    name: "drop_token",
    breaks: "the env token is presented in the Hello",
    caughtBy: ["auth.token_presented"],
  },
  {
    name: "hello_wrong_shard",
    breaks: "Hello.shard_id is the configured shard",
    caughtBy: ["hs.hello_shard_id"],
  },
  {
    name: "hide_cache_info",
    breaks: "a cached index is announced in Hello.cached_index_info",
    caughtBy: ["cache.restart_presents_cached_info"],
  },
  {
    name: "exit_zero_on_reject",
    breaks: "a Reject makes the worker exit non-zero",
    caughtBy: ["hs.reject_unauthorized_exits"],
  },
  {
    name: "close_on_unknown_frame",
    breaks: "an unknown body-less frame is ignored",
    caughtBy: ["lim.unknown_frame_type_ignored"],
  },
  {
    name: "generation_stuck",
    breaks: "each rebuild advances index_generation",
    caughtBy: ["sem.generation_advances"],
  },
  {
    name: "compress_always",
    breaks: 'no zstd when only "none" was chosen',
    caughtBy: ["hs.compression_none_chosen"],
  },
  {
    name: "swallow_oversize_frame",
    breaks: "an oversized length prefix closes the connection",
    caughtBy: ["lim.oversize_prefix_closes"],
  },
  {
    name: "chunk_seq_from_one",
    breaks: "worker chunk streams start at seq 0",
    caughtBy: ["chunk.worker_stream_structure"],
  },
  {
    name: "linger_after_close",
    breaks: "exit when the router closes (SHOULD)",
    caughtBy: ["life.exit_when_router_closes"],
  },
  {
    name: "duplicate_response",
    breaks: "exactly one response per request",
    caughtBy: ["ids.response_echoes_id"],
  },
  {
    name: "crash_on_corrupt_cache",
    breaks: "a corrupted cache is a miss, not a crash",
    caughtBy: ["cache.corrupted_is_miss"],
    via: "fixture",
  },
  {
    name: "token_in_logs",
    breaks: "the token never appears in logs",
    caughtBy: ["auth.token_never_logged"],
    via: "fixture",
  },
  {
    name: "untrimmed_token",
    breaks: "the env token is trimmed",
    caughtBy: ["auth.token_trimmed"],
    via: "fixture",
  },
  {
    name: "no_cache_write",
    breaks: "IndexShard persists the index to the cache",
    caughtBy: ["cache.restart_presents_cached_info"],
    via: "fixture",
  },
]);

/**
 * Legitimate variations the proxy can also apply (not faults): a conformant
 * worker with a minimal offer must still pass every MUST case, with the
 * cases that need an optional capability skipped; a worker with a lenient
 * decoder (`lenient_decoder`: it accepts indefinite-length maps, as the
 * reference does) must pass every case, the leniency cases included.
 *
 * @example
 * ```ts
 * import { VARIANTS } from "./faults.ts";
 * console.assert(VARIANTS.includes("minimal_offer"));
 * ```
 */
export const VARIANTS: readonly string[] = Object.freeze([
  "minimal_offer",
  "lenient_decoder",
]);

/**
 * Looks a fault up by name.
 *
 * @param name The fault's name.
 * @returns The fault, or undefined.
 *
 * @example
 * ```ts
 * import { findFault } from "./faults.ts";
 * console.assert(findFault("no_chunking")?.caughtBy[0] === "hs.small_max_frame_len_honoured");
 * ```
 */
export function findFault(name: string): FaultDef | undefined {
  return FAULTS.find((f) => f.name === name);
}
