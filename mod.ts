/**
 * loom: run indexing work across many worker processes and machines.
 *
 * The root export is the pure nova remote RPC v3 wire layer (types, codec,
 * framing, limits, errors, sessions). The other layers have their own
 * subpath exports, so that importing one never drags in another:
 *
 * | subpath | what |
 * |---|---|
 * | `./wire` | the v3 codec and the sans-I/O router/worker sessions |
 * | `./worker` | worker request state, Java symbol extraction, shard cache format |
 * | `./router` | shard layout, fuzzy symbol search, index store, backoff |
 * | `./net` | Deno bindings: unix/tcp/tls/mTLS listeners and connections, router runtime |
 * | `./testing` | test doubles: in-memory session pairs, fake clock, split helpers |
 * | `./caps` | worker capabilities, the connect preamble plan, registry, claims and leases (pure, embedded backend) |
 * | `./caps/runtime` | the caps plan run against Valkey/Redis, and the worker loop |
 * | `./seed` | cluster formation core: frames, messages, token proof, seed/joiner machines, membership |
 * | `./seed/runtime` | cluster formation binding: seed node, joiner, mTLS mesh, certificates |
 *
 * @example Encode and decode a frame
 * ```ts
 * import { decodeWireFrame, encodeWireFrame } from "./mod.ts";
 * const bytes = encodeWireFrame({ type: "unknown" });
 * console.assert(decodeWireFrame(bytes).type === "unknown");
 * ```
 *
 * @module
 */

export * from "./lib/wire/mod.ts";
